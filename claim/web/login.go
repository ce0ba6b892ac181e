package web

import (
	"errors"
	"net/http"
	"strings"

	"frontdesk/claim"
	"frontdesk/store"
)

// notices are the confirmations the sign-in and account pages show after a
// redirect, chosen by a short key in the query: the page never repeats text
// from the address bar.
var notices = map[string]string{
	"signed_out": "You're signed out.",
	"expired":    "Your session ended, so you've been signed out. Sign in again to continue.",
	"saved":      "Your details were saved.",
}

// loginForm is GET /login. An already signed-in browser goes to its account.
func (h *handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if tok := h.cookie(r, sessionCookie); tok != "" {
		if _, err := h.svc.Session(r.Context(), tok, h.sessions); err == nil {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return
		}
	}
	if h.forgetOrg(w, r) {
		return
	}
	q := r.URL.Query()
	org := h.pageOrg(r, q.Get("org"))
	h.renderLogin(w, r, http.StatusOK, org, "", "", "", "", notices[q.Get("m")])
}

func (h *handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, org *store.Org, email, emailErr, pwErr, formErr, notice string) {
	fields := []field{
		{ID: "email", Name: "email", Label: "Email address", Type: "email", Autocomplete: "username", InputMode: "email",
			Value: email, Error: emailErr, Required: true, NoSpellcheck: true},
		{ID: "password", Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password",
			Error: pwErr, Required: true, NoSpellcheck: true},
	}
	if formErr != "" {
		// The refusal is about both fields together; tie it to both.
		for i := range fields {
			fields[i].Also = "form-error"
		}
	}
	v := &view{Title: "Sign in", org: org, Fields: focusFirstError(fields), FormError: formErr, Notice: notice}
	if formErr != "" && emailErr == "" && pwErr == "" {
		v.Fields[1].Autofocus = true
	}
	v.ForgotURL = "/forgot"
	if org != nil {
		v.ForgotURL = withOrg("/forgot", org.Slug)
		// Signing in is for this organization's account only; a customer
		// of another (the cookie remembers the last one) needs a way out.
		v.OtherURL = "/login?org="
	}
	h.render(w, r, status, "login", v)
}

// loginSubmit is POST /login. Limits: per client address here, and the
// sign-in throttle per email typed and address (claim.SignInThrottled,
// whether or not the email has an account, so it tells nothing). A success
// rotates the session: the browser's old session, if any, is deleted and a
// new id is issued.
func (h *handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) || h.limited(w, r, h.signIns, "sign-in") {
		return
	}
	org := h.pageOrg(r, r.PostForm.Get("org"))
	email := strings.TrimSpace(r.PostForm.Get("email"))
	pw := r.PostForm.Get("password")
	var emailErr, pwErr string
	if email == "" {
		emailErr = "Enter your email address."
	}
	if pw == "" {
		pwErr = "Enter your password."
	}
	if emailErr != "" || pwErr != "" {
		h.renderLogin(w, r, http.StatusUnprocessableEntity, org, email, emailErr, pwErr, "", "")
		return
	}
	slug := ""
	if org != nil {
		slug = org.Slug
	}
	in, err := h.svc.SignIn(r.Context(), claim.SignInRequest{OrgSlug: slug, Email: email, Password: pw, Addr: h.client(r)}, h.sessions)
	var throttled *claim.SignInThrottled
	if errors.As(err, &throttled) {
		h.log.Warn("sign-in throttled", "client", h.client(r), "org", slug, "everywhere", throttled.Everywhere)
		h.tooManyFor(w, r, throttled.Error(), throttled.Wait)
		return
	} else if claim.IsSignInFailure(err) {
		h.log.Info("sign-in failed", "client", h.client(r), "org", slug)
		h.renderLogin(w, r, http.StatusUnauthorized, org, email, "", "", store.ErrorMessage(err), "")
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	h.startSession(w, r, in.Token)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// startSession gives the browser a new session (signing in, or claiming):
// the session the browser had, if any, is ended, so the id changes at
// every sign-in.
func (h *handler) startSession(w http.ResponseWriter, r *http.Request, token string) {
	if old := h.cookie(r, sessionCookie); old != "" {
		if err := h.svc.SignOut(r.Context(), old); err != nil {
			h.log.Error("end previous session", "err", err)
		}
	}
	h.setCookie(w, sessionCookie, token, 0)
	if h.signInCount.Add(1)%64 == 0 {
		if n, err := h.svc.PruneSessions(r.Context(), h.sessions); err != nil {
			h.log.Error("prune sessions", "err", err)
		} else if n > 0 {
			h.log.Info("pruned stale sessions", "n", n)
		}
	}
}

// logoutPage is GET /logout: signing out changes state, so it takes a POST;
// a typed or bookmarked address gets a button.
func (h *handler) logoutPage(w http.ResponseWriter, r *http.Request) {
	sess, org := h.session(r)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	v := &view{Title: "Sign out", org: org, SignedIn: true, Message: &message{
		Heading: "Sign out?",
		Paras:   []string{"Use the Sign out button at the top of the page."},
		Actions: []action{{Href: "/account", Label: "Back to your account", Secondary: true}},
	}}
	h.render(w, r, http.StatusOK, "message", v)
}

// logout is POST /logout.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	slug := ""
	if sess, org := h.session(r); sess != nil {
		slug = org.Slug
	}
	if tok := h.cookie(r, sessionCookie); tok != "" {
		if err := h.svc.SignOut(r.Context(), tok); err != nil {
			h.internal(w, r, err)
			return
		}
	}
	h.clearCookie(w, sessionCookie)
	to := withOrg("/login", slug)
	if strings.Contains(to, "?") {
		to += "&m=signed_out"
	} else {
		to += "?m=signed_out"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// session returns the request's live session and its organization, or nil.
func (h *handler) session(r *http.Request) (*claim.CustomerSession, *store.Org) {
	tok := h.cookie(r, sessionCookie)
	if tok == "" {
		return nil, nil
	}
	sess, err := h.svc.Session(r.Context(), tok, h.sessions)
	if err != nil {
		return nil, nil
	}
	org, err := h.svc.DB.Org(r.Context(), sess.OrgID)
	if err != nil {
		return nil, nil
	}
	return sess, org
}
