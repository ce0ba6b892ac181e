package web

import (
	"errors"
	"net/http"
	"time"

	"frontdesk/claim"
)

// renewSubmit is POST /claim/renew: "send me a new link" from the page of a
// dead invite link, carrying that link's key. The rules (the address on
// file only, the limits per customer and mailbox, the audit) are
// claim.Service.RenewLink's; this limits the client address, and answers
// the same page after the same time (renewFloor) whatever happened, so it
// tells nobody whether a link went, or why not. A new link is queued
// rather than sent while the customer waits (Send's QueueOnly): the outbox
// worker, woken, sends it at once.
func (h *handler) renewSubmit(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !h.parseForm(w, r) || h.limited(w, r, h.renews, "renew") {
		return
	}
	k := parseLinkKey(r.PostForm.Get("link"), true)
	req := claim.RenewRequest{Token: k.token, Addr: h.client(r)}
	if k.token == "" {
		req.Code = &claim.CodeEntry{Email: k.email, Code: k.code, Addr: h.client(r)}
	}
	res, err := h.svc.RenewLink(r.Context(), req)
	var th *claim.CodeThrottled
	if errors.As(err, &th) {
		h.tooManyFor(w, r, th.Error(), th.Wait)
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	result := "nothing asked"
	if o := res.Outcome; o != nil {
		result = "refused"
		if o.Result != claim.Refused {
			result = "queued"
			if h.wake != nil {
				h.wake()
			}
		}
	}
	h.log.Info("new link asked for", "client", h.client(r), "state", res.State, "result", result)
	if d := h.renewFloor - time.Since(start); d > 0 {
		time.Sleep(d) // evens out the timing of a link sent and none
	}
	org, name := res.Org, "the studio"
	var actions []action
	if org != nil {
		name = org.Name
		if org.ReplyTo != "" {
			actions = append(actions, action{Href: "mailto:" + org.ReplyTo, Label: "Email " + org.Name, Secondary: true})
		}
	}
	h.say(w, r, http.StatusOK, org, &message{
		Heading: "Check your email",
		Paras: []string{
			"If a new link can be sent for this invite, it is on its way to the email address " + name + " has on file for you. Only the newest link works.",
			"Nothing after a few minutes? Check your spam or junk folder. If it still hasn't come, contact " + name + ": they can check your address and send you an invite.",
		},
		Actions: actions,
		Tone:    "ok",
	})
}
