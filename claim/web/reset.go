package web

import (
	"net/http"
	"strings"
	"time"

	"frontdesk/claim"
	"frontdesk/store"
)

// resetFlow is the password reset: GET /reset/{token} → GET /reset → POST
// /reset, the same mechanism as the claim with purpose reset.
var resetFlow = &flow{
	purpose: store.PurposeReset,
	cookie:  resetCookie,
	path:    "/reset",
	heading: "Choose a new password",
	button:  "Save new password",
	intro: func(l *claim.Link) string {
		return "Choose a new password for your " + l.Org.Name + " account. Saving it signs you out on every device; then sign in with the new password."
	},
	state: resetState,
	done: func(org *store.Org) *message {
		return &message{
			Heading: "Your password was changed",
			Paras: []string{
				"Your " + org.Name + " account has a new password, and every device that was signed in has been signed out.",
				"Sign in with your email address and the new password.",
			},
			Actions: []action{{Href: withOrg("/login", org.Slug), Label: "Sign in"}},
			Tone:    "ok",
		}
	},
	noLink: &message{
		Heading: "Open the link from your reset email",
		Paras: []string{
			"To choose a new password, open the link in the password reset email. If you already did, the page may have been open too long: open the link again, or ask for a new one.",
		},
		Actions: []action{{Href: "/forgot", Label: "Email me a new reset link"}},
	},
}

func (h *handler) resetLink(w http.ResponseWriter, r *http.Request)   { h.openLink(w, r, resetFlow) }
func (h *handler) resetForm(w http.ResponseWriter, r *http.Request)   { h.passwordForm(w, r, resetFlow) }
func (h *handler) resetSubmit(w http.ResponseWriter, r *http.Request) { h.setPassword(w, r, resetFlow) }

// resetState words each reset link that cannot be used.
func resetState(l *claim.Link) (int, *message) {
	slug := ""
	if l.Org != nil {
		slug = l.Org.Slug
	}
	again := []action{{Href: withOrg("/forgot", slug), Label: "Email me a new reset link"}}
	switch l.State {
	case claim.LinkExpired:
		return http.StatusGone, &message{
			Heading: "This reset link has expired",
			Paras:   []string{"Password reset links work for one hour, and this one has run out. Ask for a new one; it takes a minute."},
			Actions: again,
		}
	case claim.LinkSuperseded:
		return http.StatusGone, &message{
			Heading: "A newer reset link was sent",
			Paras:   []string{"You asked for another reset link after this one, so this one no longer works. Use the link in the most recent reset email, or ask for a new one."},
			Actions: again,
		}
	case claim.LinkUsed:
		return http.StatusGone, &message{
			Heading: "This reset link was already used",
			Paras:   []string{"The password was already changed with this link. Sign in with the new password, or ask for another link if that wasn't you or you've forgotten it again."},
			Actions: []action{{Href: withOrg("/login", slug), Label: "Sign in"}, {Href: withOrg("/forgot", slug), Label: "Email me a new reset link", Secondary: true}},
		}
	case claim.LinkEmailChanged, claim.LinkRevoked, claim.LinkWithdrawn, claim.LinkClaimed:
		return http.StatusGone, &message{
			Heading: "This reset link no longer works",
			Paras:   []string{"Something about your account changed after this link was sent (its email address, or its password). Ask for a new link if you still need one."},
			Actions: again,
		}
	}
	return http.StatusNotFound, &message{
		Heading: "We don't recognise this link",
		Paras: []string{
			"The link may be incomplete: some email apps break long links across lines. Open it again from the email, or copy the whole link into the address bar.",
			"If it still doesn't work, ask for a new reset link.",
		},
		Actions: again,
	}
}

// forgotForm is GET /forgot.
func (h *handler) forgotForm(w http.ResponseWriter, r *http.Request) {
	if h.forgetOrg(w, r) {
		return
	}
	org := h.pageOrg(r, r.URL.Query().Get("org"))
	h.renderForgot(w, r, http.StatusOK, org, "", "")
}

func (h *handler) renderForgot(w http.ResponseWriter, r *http.Request, status int, org *store.Org, email, emailErr string) {
	v := &view{Title: "Reset your password", org: org, Fields: focusFirstError([]field{
		{ID: "email", Name: "email", Label: "Email address", Type: "email", Autocomplete: "username", InputMode: "email",
			Value: email, Error: emailErr, Required: true, NoSpellcheck: true},
	})}
	v.LoginURL = "/login"
	if org != nil {
		v.LoginURL = withOrg("/login", org.Slug)
	}
	h.render(w, r, status, "forgot", v)
}

// forgotSubmit is POST /forgot. Whatever the address, the answer is the
// same page after the same time (forgotFloor): it never tells whether the
// address has an account. The limits on how many emails one account or one
// mailbox gets are claim.RequestReset's; this one limits the client.
func (h *handler) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !h.parseForm(w, r) || h.limited(w, r, h.forgots, "forgot") {
		return
	}
	org := h.pageOrg(r, r.PostForm.Get("org"))
	slug := ""
	if org != nil {
		slug = org.Slug
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	res, err := h.svc.RequestReset(r.Context(), claim.ResetRequest{OrgSlug: slug, Email: email, Addr: h.client(r)})
	if store.ErrorCode(err) == store.EINVALID {
		h.renderForgot(w, r, http.StatusUnprocessableEntity, org, email, store.ErrorMessage(err))
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	if len(res.OutboxIDs) > 0 && h.wake != nil {
		h.wake()
	}
	h.log.Info("password reset requested", "client", h.client(r), "queued", len(res.OutboxIDs), "throttled", res.Throttled)
	if d := h.forgotFloor - time.Since(start); d > 0 {
		time.Sleep(d) // evens out the timing of known and unknown addresses
	}
	name := "your account"
	if org != nil {
		name = "a " + org.Name + " account"
	}
	h.say(w, r, http.StatusOK, org, &message{
		Heading: "Check your email",
		Paras: []string{
			"If " + email + " belongs to " + name + ", we've sent it a link to choose a new password. The link works for one hour.",
			"Nothing after a few minutes? Check your spam or junk folder, and that you typed the address your account uses. Haven't set up your account yet? Use the invite email instead.",
		},
		Actions: []action{{Href: withOrg("/login", slug), Label: "Back to sign in", Secondary: true}},
		Tone:    "ok",
	})
}

// orgFromQuery resolves an ?org= slug to its organization, nil when absent
// or unknown. Only what the database holds is shown, never the slug as typed.
func (h *handler) orgFromQuery(r *http.Request, slug string) *store.Org {
	if slug == "" || len(slug) > 100 {
		return nil
	}
	org, err := h.svc.DB.OrgBySlug(r.Context(), slug)
	if err != nil {
		return nil
	}
	return org
}
