package web

import (
	"net/http"

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
	done: func(org *store.Org) *message {
		return &message{
			Heading: "Your account is ready",
			Paras: []string{
				"Your " + org.Name + " account is set up. Sign in with your email address and the password you just chose.",
				"Once signed in you can see your bookings, payments and subscriptions, and keep your details up to date.",
			},
			Actions: []action{{Href: withOrg("/login", org.Slug), Label: "Sign in"}},
			Tone:    "ok",
		}
	},
	noLink: &message{
		Heading: "Open the link from your invite email",
		Paras: []string{
			"To set up your account, open the link in the invite email you received. If you already did, the page may have been open too long: open the link from the email again.",
		},
		Actions: []action{{Href: "/login", Label: "I already have a password: sign in", Secondary: true}},
	},
}

func (h *handler) claimLink(w http.ResponseWriter, r *http.Request)   { h.openLink(w, r, claimFlow) }
func (h *handler) claimForm(w http.ResponseWriter, r *http.Request)   { h.passwordForm(w, r, claimFlow) }
func (h *handler) claimSubmit(w http.ResponseWriter, r *http.Request) { h.setPassword(w, r, claimFlow) }

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
	switch l.State {
	case claim.LinkExpired:
		return http.StatusGone, &message{
			Heading: "This invite link has expired",
			Paras: []string{
				"Invite links work for a limited time, and this one has run out.",
				"Ask " + org + " to send you a new invite. The new email will have a fresh link.",
			},
			Actions: contact,
		}
	case claim.LinkSuperseded:
		return http.StatusGone, &message{
			Heading: "A newer invite was sent",
			Paras: []string{
				org + " sent you a newer invite, so this link no longer works.",
				"Use the link in the most recent email from " + org + ". Can't find it? Check your spam or junk folder, or ask " + org + " to send it again.",
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
				"Ask " + org + " to send a new invite to your current address.",
			},
			Actions: contact,
		}
	case claim.LinkRevoked:
		return http.StatusGone, &message{
			Heading: "This invite was withdrawn",
			Paras:   []string{"This link no longer works. If you think that's a mistake, contact " + org + "."},
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
