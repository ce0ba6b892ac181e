package claim

import (
	"context"
	"strings"
	"testing"
	"time"

	"frontdesk/claim/dnstest"
)

// testZone is the DNS the address tests see: a domain with mail servers,
// one with only an address, one that takes no mail, one whose server never
// answers; any other name does not exist.
var testZone = map[string]dnstest.Domain{
	"harbor.example":      {MX: []string{"mx1.harbor.example", "mx2.harbor.example"}},
	"aonly.example":       {A: []string{"192.0.2.10"}},
	"v6only.example":      {AAAA: []string{"2001:db8::25"}},
	"nomail.example":      {NullMX: true, A: []string{"192.0.2.11"}},
	"silent.example":      {Silent: true},
	"xn--caf-dma.example": {MX: []string{"mx.xn--caf-dma.example"}}, // café.example
}

func TestSuggestAddress(t *testing.T) {
	for in, want := range map[string]string{
		// Typos of common providers.
		"jane@gmial.com":      "jane@gmail.com",
		"jane@gamil.com":      "jane@gmail.com",
		"jane@gmai.com":       "jane@gmail.com",
		"jane@gmail.con":      "jane@gmail.com",
		"jane@gmail.co":       "jane@gmail.com",
		"jane@gmial.con":      "jane@gmail.com",
		"Jane.Doe@GMIAL.COM":  "Jane.Doe@gmail.com",
		" jane@yahooo.com ":   "jane@yahoo.com",
		"jane@hotmial.com":    "jane@hotmail.com",
		"jane@hotmal.co.uk":   "jane@hotmail.co.uk",
		"jane@outlok.com":     "jane@outlook.com",
		"jane@iclod.com":      "jane@icloud.com",
		"jane@aol.cmo":        "jane@aol.com",
		"jane@protonmial.com": "jane@protonmail.com",
		// Real domains, providers or not, are left alone.
		"jane@gmail.com":      "",
		"jane@mail.com":       "",
		"jane@email.com":      "",
		"jane@ymail.com":      "",
		"jane@gmx.net":        "",
		"jane@yahoo.co.uk":    "",
		"jane@yahoo.de":       "",
		"jane@hotmail.fr":     "",
		"jane@me.com":         "",
		"jane@mac.com":        "",
		"jane@bol.com":        "", // one letter from aol.com, and a real domain
		"jane@love.com":       "", // one from live.com
		"jane@harbor.example": "",
		"jane@gmail.example":  "",
		"jane@mail.gmial.com": "", // a host name under a domain: not a mailbox typo
		"jane@example.com":    "",
		"jane@verizon.com":    "",
		"jane@gmailcom":       "",
		"not an address":      "",
		"jane@":               "",
	} {
		a := SuggestAddress(in)
		if a.Suggestion != want {
			t.Errorf("SuggestAddress(%q) = %q, want %q", in, a.Suggestion, want)
		}
	}
	a := SuggestAddress("jane@gmial.com")
	if got := a.Typo(); got != "gmial.com looks like a typo: did you mean gmail.com?" {
		t.Errorf("typo words: %q", got)
	}
	if SuggestAddress("jane@gmail.com").Typo() != "" {
		t.Error("typo words for a good address")
	}
}

func TestCheckAddressAsksDNS(t *testing.T) {
	dns := dnstest.Start(t, testZone)
	svc := &Service{Resolver: dns.Resolver(), DNSTimeout: 2 * time.Second}
	ctx := context.Background()
	for _, tc := range []struct {
		email string
		want  MailDomain
		words string
	}{
		{"jane@harbor.example", DomainReceives, ""},
		{"jane@aonly.example", DomainReceives, ""},  // no MX: its address takes mail
		{"jane@v6only.example", DomainReceives, ""}, // so does an IPv6 one
		{"jane@café.example", DomainReceives, ""},   // asked as xn--caf-dma.example
		{"jane@nomail.example", DomainNullMX, "nomail.example accepts no email (its DNS says so): email to it cannot arrive."},
		{"jane@nxdomain.example", DomainNoMail, "nxdomain.example has no mail server (no MX or address record in DNS): email to it cannot arrive."},
	} {
		a := svc.CheckAddress(ctx, tc.email)
		if a.DNS != tc.want || a.Warning() != tc.words {
			t.Errorf("%s: %v %q, want %v %q", tc.email, a.DNS, a.Warning(), tc.want, tc.words)
		}
	}
	if got := svc.CheckAddress(ctx, "jane@harbor.example").Fine(); got != "harbor.example receives email." {
		t.Errorf("fine words: %q", got)
	}

	// A typo and no mail server: both warnings, the typo first.
	if got := strings.Join(svc.CheckAddress(ctx, "jane@gmial.com").Warnings(), " | "); got !=
		"gmial.com looks like a typo: did you mean gmail.com? | gmial.com has no mail server (no MX or address record in DNS): email to it cannot arrive." {
		t.Errorf("warnings: %s", got)
	}

	// Not asked: an invalid address, or no resolver.
	before := dns.Queries()
	if a := svc.CheckAddress(ctx, "jane@nodot"); a.DNS != DomainUnchecked {
		t.Errorf("invalid address looked up: %v", a.DNS)
	}
	if a := (&Service{}).CheckAddress(ctx, "jane@gmial.com"); a.DNS != DomainUnchecked || a.Suggestion != "jane@gmail.com" {
		t.Errorf("without a resolver: %+v", a)
	}
	if n := dns.Queries(); n != before {
		t.Errorf("%d queries for addresses not to be looked up", n-before)
	}
	// Names are asked absolute, so no search domain of this machine is
	// tried.
	for _, q := range dns.Asked() {
		if strings.Contains(q, "harbor.example.") && !strings.HasSuffix(q, "harbor.example.") {
			t.Errorf("asked %q", q)
		}
	}
}

// A DNS server that never answers costs the timeout, not more, and says
// "could not check"; so does a cancelled context.
func TestCheckAddressSilentDNS(t *testing.T) {
	dns := dnstest.Start(t, testZone)
	svc := &Service{Resolver: dns.Resolver(), DNSTimeout: 300 * time.Millisecond}
	start := time.Now()
	a := svc.CheckAddress(context.Background(), "jane@silent.example")
	took := time.Since(start)
	if a.DNS != DomainUnknown || a.Warning() != "Could not check whether silent.example receives email: DNS did not answer in time." {
		t.Errorf("silent DNS: %v %q", a.DNS, a.Warning())
	}
	if took > 2*time.Second {
		t.Errorf("the check took %s with a 300ms timeout", took)
	}
	if dns.Queries() == 0 {
		t.Error("the silent server was never asked")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if a := svc.CheckAddress(ctx, "jane@harbor.example"); a.DNS != DomainUnknown {
		t.Errorf("cancelled: %v", a.DNS)
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"gmail", "gmail", 0}, {"gmial", "gmail", 1}, {"gmai", "gmail", 1}, {"gmaill", "gmail", 1}, {"gnail", "gmail", 1},
		{"hotmial", "hotmail", 1}, {"hotmal", "hotmail", 1}, {"otmial", "hotmail", 2}, {"", "abc", 3}, {"café", "cafe", 1}} {
		if d := distance(tc.a, tc.b); d != tc.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
}
