package web

import (
	"errors"
	"net/http"
	"strings"

	"frontdesk/claim"
	"frontdesk/store"
)

// claimFlow is the invite: GET /claim/{token} → GET /claim → POST /claim.
var claimFlow = &flow{
	purpose: store.PurposeClaim,
	cookie:  claimCookie,
	path:    "/claim",
	heading: "Set up your account",
	button:  "Set password and claim account",
	intro: func(l *claim.Link) string {
		return l.Org.Name + " invited you to claim your online account. Choose a password to finish; you'll use it with your email address to sign in."
	},
	state: claimState,
	// No done page: claiming signs the customer in and shows their account
	// (setPassword), which says where to sign in next time.
	codes: true,
}

func (h *handler) claimLink(w http.ResponseWriter, r *http.Request) { h.openLink(w, r, claimFlow) }
func (h *handler) claimForm(w http.ResponseWriter, r *http.Request) { h.passwordForm(w, r, claimFlow) }

// claimSubmit is POST /claim: the code form (it has a code field) or the
// password form.
func (h *handler) claimSubmit(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	if r.PostForm.Has("code") {
		h.codeSubmit(w, r)
		return
	}
	h.setPassword(w, r, claimFlow)
}

// renderCode is the claim page without a link: the email address and the
// one-time code from the invite email, for mail apps that break links.
func (h *handler) renderCode(w http.ResponseWriter, r *http.Request, status int, email, emailErr, codeErr, formErr string) {
	fields := []field{
		{ID: "email", Name: "email", Label: "Email address", Type: "email", Autocomplete: "email", InputMode: "email",
			Hint: "The address the invite was sent to.", Value: email, Error: emailErr, Required: true, NoSpellcheck: true},
		{ID: "code", Name: "code", Label: "Code from the email", Type: "text", Autocomplete: "one-time-code",
			Hint: "8 letters and digits, like K7F2-9QXM.", Error: codeErr, Required: true, NoSpellcheck: true},
	}
	if formErr != "" {
		for i := range fields {
			fields[i].Also = "form-error"
		}
	}
	v := &view{Title: claimFlow.heading, Fields: focusFirstError(fields), FormError: formErr, LoginURL: "/login"}
	if formErr != "" && emailErr == "" && codeErr == "" {
		v.Fields[1].Autofocus = true
	}
	h.render(w, r, status, "code", v)
}

// codeSubmit is POST /claim with a code: when the code is right it goes on
// exactly as a link does (the cookie, then the password form); a code whose
// invite is used, expired or superseded gets its link's page. Limits: per
// client address here, and claim's throttle of wrong codes per email and
// client, in the database.
func (h *handler) codeSubmit(w http.ResponseWriter, r *http.Request) {
	if h.limited(w, r, h.tokens, "claim code") {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	typed := r.PostForm.Get("code")
	var emailErr, codeErr string
	if email == "" {
		emailErr = "Enter the email address the invite was sent to."
	}
	code, ok := claim.ParseCode(typed)
	switch {
	case strings.TrimSpace(typed) == "":
		codeErr = "Enter the code from the invite email."
	case !ok:
		codeErr = "A code has 8 letters and digits, like K7F2-9QXM. Check it against the email."
	}
	if emailErr != "" || codeErr != "" {
		h.renderCode(w, r, http.StatusUnprocessableEntity, email, emailErr, codeErr, "")
		return
	}
	k := linkKey{email: email, code: code}
	l, err := h.lookup(r, claimFlow, k)
	var th *claim.CodeThrottled
	if errors.As(err, &th) {
		h.log.Warn("claim code throttled", "client", h.client(r), "everywhere", th.Everywhere)
		h.tooManyFor(w, r, th.Error(), th.Wait)
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	switch l.State {
	case claim.LinkValid:
	case claim.LinkUnknown:
		h.log.Info("wrong claim code", "client", h.client(r))
		h.renderCode(w, r, http.StatusUnauthorized, email, "", "",
			"That code doesn't match an invite sent to this email address. Check both against the email, or open the link in it.")
		return
	default:
		h.linkState(w, r, claimFlow, l, k)
		return
	}
	h.setCookie(w, claimFlow.cookie, k.cookie(), min(tokenCookieTTL, max(l.Invite.ExpiresAt.Sub(h.svc.DB.Now()), 1)))
	http.Redirect(w, r, claimFlow.path, http.StatusSeeOther)
}

// claimState words each dead invite link: what happened and what to do.
func claimState(l *claim.Link) (int, *message) {
	org, slug := "the organization that invited you", ""
	var contact []action
	if l.Org != nil {
		org, slug = l.Org.Name, l.Org.Slug
		if l.Org.ReplyTo != "" {
			contact = []action{{Href: "mailto:" + l.Org.ReplyTo, Label: "Email " + l.Org.Name, Secondary: true}}
		}
	}
	signIn := []action{
		{Href: withOrg("/login", slug), Label: "Sign in"},
		{Href: withOrg("/forgot", slug), Label: "Reset your password", Secondary: true},
	}
	// The dead links' pages offer "send me a new link" (linkState adds the
	// form): it goes to the address on file, so the pages say so.
	switch l.State {
	case claim.LinkExpired:
		return http.StatusGone, &message{
			Heading: "This invite link has expired",
			Paras: []string{
				"Invite links work for a limited time, and this one has run out.",
				"We can email you a new link, to the address " + org + " has on file for you. Or ask " + org + " to send you a new invite.",
			},
			Actions: contact,
		}
	case claim.LinkSuperseded:
		return http.StatusGone, &message{
			Heading: "A newer invite was sent",
			Paras: []string{
				org + " sent you a newer invite, so this link no longer works.",
				"Use the link in the most recent email from " + org + ". Can't find it? Check your spam or junk folder, or ask for a new link: it goes to the address " + org + " has on file for you.",
			},
			Actions: contact,
		}
	case claim.LinkUsed, claim.LinkClaimed:
		return http.StatusGone, &message{
			Heading: "Your account is already set up",
			Paras: []string{
				"This invite has already been used to claim your " + orgOr(l, "") + "account, so you don't need it any more.",
				"Sign in with your email address and password. If you don't remember the password, reset it.",
			},
			Actions: signIn,
		}
	case claim.LinkEmailChanged:
		return http.StatusGone, &message{
			Heading: "This link went to an old email address",
			Paras: []string{
				"The email address on your account changed after this invite was sent, so the link no longer works.",
				"We can email a new link to the address " + org + " now has on file for you. Or ask " + org + " to send a new invite to your current address.",
			},
			Actions: contact,
		}
	case claim.LinkWithdrawn:
		// Whom to ask is the organization: the staff member's name is not
		// for whoever holds the link, and the reply-to address (when set)
		// is the organization's own way to be reached.
		return http.StatusGone, &message{
			Heading: "This invite was withdrawn",
			Paras: []string{
				org + " withdrew this invite, so its link no longer works.",
				"If you were expecting it, or would still like an online account, ask " + org + " to send you a new invite.",
			},
			Actions: contact,
		}
	case claim.LinkRevoked:
		return http.StatusGone, &message{
			Heading: "This invite was withdrawn",
			Paras: []string{
				"This link no longer works. If you think that's a mistake, ask for a new link, or contact " + org + ".",
			},
			Actions: contact,
		}
	}
	return http.StatusNotFound, &message{
		Heading: "We don't recognise this link",
		Paras: []string{
			"The link may be incomplete: some email apps break long links across lines. Open it again from the email, or copy the whole link into the address bar.",
			"If it still doesn't work, ask the organization that invited you to send a new invite.",
		},
	}
}

// orgOr is "Harbor Yoga " when the link's organization is known, else alt.
func orgOr(l *claim.Link, alt string) string {
	if l.Org != nil {
		return l.Org.Name + " "
	}
	return alt
}
