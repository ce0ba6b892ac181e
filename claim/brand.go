package claim

import (
	"strings"

	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/brand"
)

// LogoPath is where the customers' site serves an organization's logo, ""
// when it has none. The path carries the start of the logo's content hash,
// so a browser may cache it for good and a new logo gets a new address;
// the web serves it (claim/web), the emails link to it (LogoURL).
func LogoPath(o *store.Org) string {
	if o == nil || len(o.LogoHash) < logoHashLen {
		return ""
	}
	return "/brand/" + o.Slug + "/logo-" + o.LogoHash[:logoHashLen] + "." + brand.Ext(o.LogoType)
}

// logoHashLen is how much of the hash the address carries: 64 bits tell
// one organization's logos apart.
const logoHashLen = 16

// LogoURL is the logo's absolute address, for emails: "" without a logo,
// and "" unless the site is reached over https, since email apps block or
// flag plain-http images and the link would leak the reader's opening of
// the email over the network in clear.
func (s *Service) LogoURL(o *store.Org) string {
	p := LogoPath(o)
	if p == "" || !strings.HasPrefix(strings.ToLower(s.BaseURL), "https://") {
		return ""
	}
	return strings.TrimRight(s.BaseURL, "/") + p
}

// brand is the organization's look in its emails.
func (s *Service) brand(o *store.Org) mailer.Brand {
	return mailer.Brand{Accent: o.Accent, LogoURL: s.LogoURL(o), LogoWidth: o.LogoWidth, LogoHeight: o.LogoHeight}
}
