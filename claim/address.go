package claim

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"frontdesk/store"
)

// Checking an address before sending (the help article's step 4, "Verify
// Customer Email"): two warnings that never block. One says the domain
// looks like a typo of a common mailbox provider, with the address it
// probably is; it needs nothing but the address, so screens show it as it is
// typed (SuggestAddress). The other asks DNS whether the domain receives
// email at all (CheckAddress, in the background, bounded by a short
// timeout): a domain with no mail server turns an invite into a bounce, and
// DNS that does not answer says so ("could not check") rather than holding
// anyone up.

// Resolver is what the check asks of DNS; *net.Resolver is one (tests give
// one whose Dial reaches an in-process DNS server).
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// DefaultDNSTimeout bounds a domain's lookups (MX, then A/AAAA) when the
// Service does not say: long enough for a resolver that is merely slow,
// short enough that nobody waits on one that is gone.
const DefaultDNSTimeout = 3 * time.Second

// MailDomain is what DNS said about an address's domain.
type MailDomain int

const (
	DomainUnchecked MailDomain = iota // no lookup made (no resolver, or no valid address)
	DomainReceives                    // it has an MX record, or else an address record (RFC 5321 §5.1)
	DomainNoMail                      // no MX and no A/AAAA record (or no such domain): mail cannot arrive
	DomainNullMX                      // its MX says it accepts no mail at all (RFC 7505)
	DomainUnknown                     // DNS did not answer in time, or failed: could not check
)

// AddressCheck is what checking an address found.
type AddressCheck struct {
	Email  string // as checked
	Domain string // its domain, as typed
	// Suggestion is the address with the provider's domain when the domain
	// looks like a typo of one ("jane@gmail.com" for "jane@gmial.com"), and
	// Suggested that domain; both "" otherwise.
	Suggestion, Suggested string
	DNS                   MailDomain
	Why                   string // DomainUnknown: why ("DNS did not answer in time")
}

// Typo words the typo warning, "" when there is none: "gmial.com looks like
// a typo: did you mean gmail.com?"
func (a AddressCheck) Typo() string {
	if a.Suggested == "" {
		return ""
	}
	return a.Domain + " looks like a typo: did you mean " + a.Suggested + "?"
}

// Warning words what DNS said when it is worth a warning, "" otherwise
// (the domain receives email, or was not checked).
func (a AddressCheck) Warning() string {
	switch a.DNS {
	case DomainNoMail:
		return a.Domain + " has no mail server (no MX or address record in DNS): email to it cannot arrive."
	case DomainNullMX:
		return a.Domain + " accepts no email (its DNS says so): email to it cannot arrive."
	case DomainUnknown:
		why := a.Why
		if why == "" {
			why = "DNS failed"
		}
		return "Could not check whether " + a.Domain + " receives email: " + why + "."
	}
	return ""
}

// Fine words a domain that receives email ("gmail.com receives email."),
// for a screen that shows the check was made; "" for any other answer.
func (a AddressCheck) Fine() string {
	if a.DNS != DomainReceives {
		return ""
	}
	return a.Domain + " receives email."
}

// Warnings are the typo and the DNS warnings that apply, in that order.
func (a AddressCheck) Warnings() []string {
	var out []string
	for _, w := range []string{a.Typo(), a.Warning()} {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// CheckAddress checks email: the typo at once, then the domain in DNS
// through s.Resolver, within s.DNSTimeout (and ctx). It never fails: DNS
// trouble is DomainUnknown. An address that is not valid, or a Service
// without a Resolver, is not looked up (DomainUnchecked).
func (s *Service) CheckAddress(ctx context.Context, email string) AddressCheck {
	a := SuggestAddress(email)
	if s.Resolver == nil || store.ValidateEmail(a.Email) != nil {
		return a
	}
	a.DNS, a.Why = s.lookupDomain(ctx, a.Domain)
	return a
}

func (s *Service) lookupDomain(ctx context.Context, domain string) (MailDomain, string) {
	// The domain as DNS knows it (IDNA), absolute so no search domain of
	// the machine's resolver is tried.
	name, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return DomainUnknown, "the domain cannot be looked up as written"
	}
	name += "."
	timeout := s.DNSTimeout
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mx, err := s.Resolver.LookupMX(ctx, name)
	switch {
	case len(mx) == 1 && (mx[0].Host == "." || mx[0].Host == ""):
		return DomainNullMX, ""
	case len(mx) > 0:
		return DomainReceives, ""
	case err != nil && !notFound(err):
		return DomainUnknown, dnsTrouble(ctx, err)
	}
	// No MX: mail goes to the domain's own address, if it has one.
	addrs, err := s.Resolver.LookupIPAddr(ctx, name)
	switch {
	case len(addrs) > 0:
		return DomainReceives, ""
	case err == nil || notFound(err):
		return DomainNoMail, ""
	}
	return DomainUnknown, dnsTrouble(ctx, err)
}

// notFound: the name does not exist, or has no record of the type asked.
func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func dnsTrouble(ctx context.Context, err error) string {
	var de *net.DNSError
	if ctx.Err() != nil || (errors.As(err, &de) && de.IsTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return "DNS did not answer in time"
	}
	return "the DNS lookup failed"
}

// SuggestAddress is the check's part that needs no network: the address's
// domain and, when that looks like a typo of a common provider, the
// suggestion. Screens call it as the address is typed.
func SuggestAddress(email string) AddressCheck {
	email = store.NormalizeEmail(email)
	a := AddressCheck{Email: email}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return a
	}
	a.Domain = email[at+1:]
	if d := suggestDomain(a.Domain); d != "" {
		a.Suggested, a.Suggestion = d, email[:at+1]+d
	}
	return a
}

// providers are the mailbox providers a typo is matched against, the most
// used first: of two equally close, the earlier is suggested.
var providers = []string{
	"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "live.com", "msn.com",
	"me.com", "mac.com", "googlemail.com", "protonmail.com", "proton.me", "gmx.com", "gmx.de", "gmx.net",
	"web.de", "yahoo.co.uk", "hotmail.co.uk", "btinternet.com", "comcast.net", "verizon.net", "att.net",
	"sbcglobal.net", "ymail.com", "mail.com", "zoho.com", "yandex.com", "fastmail.com", "orange.fr",
	"free.fr", "t-online.de", "libero.it",
}

// realDomains are domains, besides the providers, that a typo of a
// provider could look like but that are real mailbox domains in their own
// right: they are never flagged.
var realDomains = []string{
	"email.com", "mail.ru", "ymail.com", "rocketmail.com", "aim.com", "pm.me", "protonmail.ch", "fastmail.fm",
	"yandex.ru", "qq.com", "163.com", "126.com", "laposte.net", "sky.com", "cox.net", "charter.net", "earthlink.net",
	"juno.com", "wanadoo.fr", "bigpond.com", "shaw.ca", "rogers.com", "telus.net", "hey.com", "gmx.at", "gmx.ch",
	"yahoo.fr", "yahoo.de", "yahoo.ca", "yahoo.es", "yahoo.it", "yahoo.co.in", "yahoo.com.au",
	"hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es", "live.co.uk", "live.fr", "live.ca", "outlook.fr", "outlook.de",
}

// twoLevel are the public suffixes of two labels the check splits at:
// "yahoo.co.uk" is the name "yahoo" under "co.uk".
var twoLevel = map[string]bool{"co.uk": true, "com.au": true, "co.nz": true, "co.jp": true, "com.br": true, "co.za": true, "co.in": true}

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range append(append([]string{}, providers...), realDomains...) {
		m[d] = true
	}
	return m
}()

// splitDomain is the domain's registered name and its public suffix, and
// whether the domain is just those two (no host or subdomain before them).
func splitDomain(d string) (name, suffix string, ok bool) {
	labels := strings.Split(d, ".")
	n := len(labels)
	if n < 2 {
		return "", "", false
	}
	suffix, rest := labels[n-1], labels[:n-1]
	if n >= 3 && twoLevel[labels[n-2]+"."+labels[n-1]] {
		suffix, rest = labels[n-2]+"."+labels[n-1], labels[:n-2]
	}
	if len(rest) != 1 {
		return "", "", false
	}
	return rest[0], suffix, true
}

// suggestDomain is the provider domain d is probably a typo of, or "".
//
// A typo here is one slip (a letter left out, doubled, swapped with the
// next or wrong) in the suffix ("gmail.con"), or one in the name of a
// provider whose name has five letters or more, two for seven or more, with
// at most one in the suffix besides ("gmial.com", "hotmial.con"). Names
// shorter than five letters are matched on the suffix only: one slip away
// from "aol" or "live" are real, unrelated domains ("bol.com", "love.com").
// A domain that is itself a provider or a known real domain is never
// flagged, nor one with a subdomain: no real domain is ever blocked, and a
// warning costs staff a glance.
func suggestDomain(d string) string {
	d = strings.ToLower(d)
	if known[d] {
		return ""
	}
	name, suffix, ok := splitDomain(d)
	if !ok {
		return ""
	}
	best, bestScore := "", 3
	for _, p := range providers {
		pn, ps, _ := splitDomain(p)
		dn, ds := distance(name, pn), distance(suffix, ps)
		score := dn + ds
		switch {
		case score == 0 || ds > 1:
			continue
		case dn == 0: // a slip in the suffix
		case len([]rune(pn)) < 5:
			continue
		case dn > 2 || (dn == 2 && len([]rune(pn)) < 7) || score > 2:
			continue
		}
		if score < bestScore {
			best, bestScore = p, score
		}
	}
	return best
}

// distance is the optimal string alignment distance of a and b: insertions,
// deletions, substitutions and swaps of neighbours, each one slip.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
