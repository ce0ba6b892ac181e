package web

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"frontdesk/claim"
	"frontdesk/store"
)

// flow is one of the two emailed-link flows. Claim and reset work the same
// way (DESIGN §3: one token mechanism, two purposes): the link's GET only
// checks the token and moves it into a cookie, the form page reads it from
// there, and only the form's POST uses it.
type flow struct {
	purpose store.Purpose
	cookie  string
	path    string // the form page: /claim or /reset

	// The words that differ.
	heading, button string
	intro           func(l *claim.Link) string
	state           func(l *claim.Link) (int, *message) // a link that cannot be used
	// done is the page after the password is set; nil signs the customer
	// in and shows their account (the claim, see claimDone).
	done   func(org *store.Org) *message
	noLink *message // the form page without a token cookie
	// codes: the flow also takes the invite email's one-time code (claim
	// only): without a token cookie, the form page asks for it.
	codes bool
}

// openLink is GET /claim/{token} and GET /reset/{token}. It never uses the
// token (mail scanners and link previews open links), only records the
// first opening (claim.Service.Opened); it moves it into a
// short-lived HttpOnly cookie and redirects, so the token leaves the address
// bar, the history and any Referer before the customer types anything.
func (h *handler) openLink(w http.ResponseWriter, r *http.Request, f *flow) {
	if h.limited(w, r, h.tokens, "link") {
		return
	}
	token := r.PathValue("token")
	if _, ok := claim.TokenHash(token); !ok {
		status, m := f.state(&claim.Link{State: claim.LinkUnknown})
		h.say(w, r, status, nil, m)
		return
	}
	l, err := h.svc.Lookup(r.Context(), f.purpose, token)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	// The first opening is what staff see ("opened Tue 10:02, password not
	// set yet"). Not recording it must not keep the customer from their
	// page: the link works all the same.
	if err := h.svc.Opened(r.Context(), l); err != nil {
		h.log.Error("recording a link's first opening", "purpose", f.purpose, "err", err)
	}
	ttl := tokenCookieTTL
	if l.State == claim.LinkValid {
		// No point keeping it past the link's own expiry.
		ttl = min(ttl, max(l.Invite.ExpiresAt.Sub(h.svc.DB.Now()), 1))
	}
	h.setCookie(w, f.cookie, token, ttl)
	http.Redirect(w, r, f.path, http.StatusSeeOther)
}

// linkKey is what a flow's cookie holds: a link's token, or (claim only)
// the email and one-time code accepted on the code form. Either is
// checked again at every request: a cookie is only where the browser
// keeps it, not a proof.
type linkKey struct {
	token       string
	email, code string
}

// codeCookiePrefix marks a cookie holding an email and a code (a token,
// base64url, never has a dot).
const codeCookiePrefix = "code."

func (k linkKey) cookie() string {
	if k.token != "" {
		return k.token
	}
	return codeCookiePrefix + base64.RawURLEncoding.EncodeToString([]byte(k.email)) + "." + k.code
}

func parseLinkKey(v string, codes bool) linkKey {
	rest, ok := strings.CutPrefix(v, codeCookiePrefix)
	if !ok || !codes {
		return linkKey{token: v}
	}
	enc, code, _ := strings.Cut(rest, ".")
	email, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return linkKey{token: v} // unknown, as any mangled token
	}
	return linkKey{email: string(email), code: code}
}

// lookup reads the link k opens. A code goes through claim's throttle,
// whose refusal (*claim.CodeThrottled) comes back as the error.
func (h *handler) lookup(r *http.Request, f *flow, k linkKey) (*claim.Link, error) {
	if k.token != "" {
		return h.svc.Lookup(r.Context(), f.purpose, k.token)
	}
	return h.svc.LookupCode(r.Context(), claim.CodeEntry{Email: k.email, Code: k.code, Addr: h.client(r)})
}

// redeem sets the password through the link k opens. A claim signs the
// customer in as well (claim.Service.Claim: in, with the new session's
// token); a reset does not (in is nil).
func (h *handler) redeem(r *http.Request, f *flow, k linkKey, password string) (c *store.Customer, in *claim.SignedIn, err error) {
	if f.purpose != store.PurposeClaim {
		c, err = h.svc.Redeem(r.Context(), f.purpose, k.token, password)
		return c, nil, err
	}
	req := claim.ClaimRequest{Token: k.token, Password: password, Addr: h.client(r)}
	if k.token == "" {
		req.Code = &claim.CodeEntry{Email: k.email, Code: k.code, Addr: h.client(r)}
	}
	if in, err = h.svc.Claim(r.Context(), req, h.sessions); err != nil {
		return nil, nil, err
	}
	return in.Customer, in, nil
}

// currentLink reads the flow's cookie and looks it up, answering itself
// (and returning nil) when there is nothing to show a form for.
func (h *handler) currentLink(w http.ResponseWriter, r *http.Request, f *flow) (*claim.Link, linkKey) {
	if h.limited(w, r, h.tokens, "link") {
		return nil, linkKey{}
	}
	v := h.cookie(r, f.cookie)
	if v == "" {
		if f.codes {
			status, formErr := http.StatusOK, ""
			if r.Method == http.MethodPost {
				status, formErr = http.StatusBadRequest, "This page was open too long. Open the link in your invite email again, or enter your email address and the code."
			}
			h.renderCode(w, r, status, "", "", "", formErr)
			return nil, linkKey{}
		}
		h.say(w, r, http.StatusBadRequest, nil, f.noLink)
		return nil, linkKey{}
	}
	k := parseLinkKey(v, f.codes)
	l, err := h.lookup(r, f, k)
	var th *claim.CodeThrottled
	if errors.As(err, &th) {
		h.clearCookie(w, f.cookie)
		h.tooManyFor(w, r, th.Error(), th.Wait)
		return nil, linkKey{}
	} else if err != nil {
		h.internal(w, r, err)
		return nil, linkKey{}
	}
	if l.State != claim.LinkValid {
		h.clearCookie(w, f.cookie)
		h.linkState(w, r, f, l, k)
		return nil, linkKey{}
	}
	return l, k
}

// linkState shows the page of link l, opened with key k, that cannot be
// used. The page of a dead invite link offers "send me a new link"
// (renewSubmit), carrying k: the key opens nothing any more, and says
// which invite the customer means.
func (h *handler) linkState(w http.ResponseWriter, r *http.Request, f *flow, l *claim.Link, k linkKey) {
	status, m := f.state(l)
	if f.purpose == store.PurposeClaim && claim.Renewable(l.State) {
		m.Renew = k.cookie()
	}
	h.say(w, r, status, l.Org, m)
}

// passwordForm is GET /claim and GET /reset.
func (h *handler) passwordForm(w http.ResponseWriter, r *http.Request, f *flow) {
	l, _ := h.currentLink(w, r, f)
	if l == nil {
		return
	}
	h.renderPassword(w, r, http.StatusOK, f, l, "", "", "")
}

func (h *handler) renderPassword(w http.ResponseWriter, r *http.Request, status int, f *flow, l *claim.Link, pwErr, confirmErr, formErr string) {
	min := l.MinPassword()
	fields := focusFirstError([]field{
		{ID: "password", Name: "password", Label: "New password", Type: "password", Autocomplete: "new-password",
			Hint:  "At least " + itoa(min) + " characters. Length is what matters: a few unrelated words with spaces between them work well. Pasting from a password manager is fine.",
			Error: pwErr, Required: true, NoSpellcheck: true},
		{ID: "confirm", Name: "confirm", Label: "Type the password again", Type: "password", Autocomplete: "new-password",
			Error: confirmErr, Required: true, NoSpellcheck: true},
	})
	h.render(w, r, status, "password", &view{
		Title: f.heading, org: l.Org, Fields: fields, FormError: formErr,
		Password: &passwordPage{
			Heading: f.heading, Intro: f.intro(l), Email: l.Customer.Email, Action: f.path, Button: f.button,
		},
	})
}

// passwordPage is the set-a-password form of both flows.
type passwordPage struct {
	Heading, Intro, Email, Action, Button string
}

// setPassword is POST /claim and POST /reset: the one request that uses the
// token. claim.Service.Claim and Redeem do it in one transaction; of
// concurrent submissions exactly one wins and the rest see "already used".
func (h *handler) setPassword(w http.ResponseWriter, r *http.Request, f *flow) {
	if !h.parseForm(w, r) {
		return
	}
	l, k := h.currentLink(w, r, f)
	if l == nil {
		return
	}
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	var pwErr, confirmErr string
	if pw == "" {
		pwErr = "Enter a new password."
	} else if err := l.CheckPassword(pw); err != nil {
		pwErr = err.Error()
	}
	if confirm == "" && pw != "" {
		confirmErr = "Type the password a second time, to be sure it is the one you meant."
	} else if subtle.ConstantTimeCompare([]byte(pw), []byte(confirm)) != 1 && pw != "" {
		confirmErr = "The two passwords don't match. Type the same password in both boxes."
	}
	if pwErr != "" || confirmErr != "" {
		h.renderPassword(w, r, http.StatusUnprocessableEntity, f, l, pwErr, confirmErr, "")
		return
	}
	c, in, err := h.redeem(r, f, k, pw)
	var pe *claim.PasswordError
	var le *claim.LinkError
	var th *claim.CodeThrottled
	switch {
	case errors.As(err, &th):
		h.clearCookie(w, f.cookie)
		h.tooManyFor(w, r, th.Error(), th.Wait)
		return
	case errors.As(err, &pe):
		h.renderPassword(w, r, http.StatusUnprocessableEntity, f, l, pe.Message, "", "")
		return
	case errors.As(err, &le):
		h.clearCookie(w, f.cookie)
		h.linkState(w, r, f, &claim.Link{State: le.State, Org: l.Org, Customer: l.Customer, Invite: l.Invite}, k)
		return
	case err != nil:
		h.internal(w, r, err)
		return
	}
	h.clearCookie(w, f.cookie)
	h.log.Info("password set", "purpose", f.purpose, "org", l.Org.ID, "customer", c.ID)
	if in != nil {
		// Claimed and signed in: the link's cookie is gone, the browser
		// gets the new session (any it had is ended), and the customer
		// lands on their account, which says where to sign in next time.
		h.startSession(w, r, in.Token)
		http.Redirect(w, r, "/account?m=claimed", http.StatusSeeOther)
		return
	}
	// A reset: every session of this customer is gone (the password
	// trigger); this browser's cookie, if it had one, is now only noise.
	h.clearCookie(w, sessionCookie)
	h.say(w, r, http.StatusOK, l.Org, f.done(l.Org))
}
