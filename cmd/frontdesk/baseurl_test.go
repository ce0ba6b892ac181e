package main

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve on an address other machines reach, with --base-url left at its
// default (localhost), would mail links that open nowhere: it is refused
// before anything starts, saying what to pass.
func TestServeRefusesDefaultBaseURLForOtherMachines(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := c.runCtx(ctx, "serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "0.0.0.0:0")
	var r cliResult
	select {
	case r = <-done:
	case <-time.After(15 * time.Second):
		cancel()
		r = <-done
		t.Fatalf("serve started with the default --base-url on 0.0.0.0:\n%s", r.stderr)
	}
	if r.code != 2 || !strings.Contains(r.stderr, "--base-url is not set") || !strings.Contains(r.stderr, "pass --base-url") {
		t.Fatalf("exit %d, stderr %q; want exit 2 saying to pass --base-url", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "serving") {
		t.Fatalf("serve started:\n%s", r.stderr)
	}

	// Given, from the environment as from the flag, it starts.
	c.env["FRONTDESK_BASE_URL"] = "http://localhost:8080"
	s := c.serve("--http-addr", "0.0.0.0:0")
	if !strings.Contains(s.stderr.String(), "which opens only on this machine") {
		t.Errorf("no warning that localhost links open only here:\n%s", s.stderr)
	}
}

var warnRE = regexp.MustCompile(`(?m)^.*msg="links in emails may not reach the customers' web".*$`)

// At start, serve says in words when the base URL cannot reach the web as
// it is bound, and is quiet when it can.
func TestServeWarnsWhenBaseURLMissesTheListener(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")

	// The default base URL (port 8080) and a web on another port.
	s := c.serve()
	_, port, _ := net.SplitHostPort(s.http)
	w := warnRE.FindString(s.stderr.String())
	if !strings.Contains(w, "go to port 8080") || !strings.Contains(w, "listens on port "+port) {
		t.Errorf("no warning that the ports differ:\n%s", s.stderr)
	}
	s.stop(30 * time.Second)

	// A public base URL on a loopback listener, with no proxy named.
	s = c.serve("--base-url", "https://desk.example.com")
	if w := warnRE.FindString(s.stderr.String()); !strings.Contains(w, "only this machine reaches") || !strings.Contains(w, "--trusted-proxies") {
		t.Errorf("no warning that only this machine reaches the web:\n%s", s.stderr)
	}
	s.stop(30 * time.Second)

	// Behind a reverse proxy on this machine: as documented, no warning.
	s = c.serve("--base-url", "https://desk.example.com", "--trusted-proxies", "127.0.0.1")
	if w := warnRE.FindString(s.stderr.String()); w != "" {
		t.Errorf("warned behind a named proxy: %s", w)
	}
}

func TestCheckBaseURL(t *testing.T) {
	addr := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		base    string
		given   bool
		bound   string
		proxied bool
		refuse  string
		warn    string // "" no warning
	}{
		{"http://localhost:8080", false, "127.0.0.1:8080", false, "", ""},
		{"http://localhost:8080", false, "0.0.0.0:8080", false, "--base-url is not set", ""},
		{"http://localhost:8080", false, "192.0.2.7:8080", false, "listens on 192.0.2.7:8080", ""},
		{"http://localhost:8080", true, "0.0.0.0:8080", false, "", "opens only on this machine"},
		{"http://127.0.0.1:8080", true, "[::]:8080", false, "", "opens only on this machine"},
		{"http://localhost:8080", false, "127.0.0.1:9000", false, "", "go to port 8080"},
		{"http://localhost", true, "127.0.0.1:8080", false, "", "go to port 80 "},
		{"https://desk.example.com", true, "127.0.0.1:8080", false, "", "only this machine reaches"},
		{"https://desk.example.com", true, "127.0.0.1:8080", true, "", ""},
		{"https://desk.example.com", true, "0.0.0.0:8080", false, "", "plain HTTP"},
		{"https://desk.example.com", true, "0.0.0.0:8080", true, "", ""},
		{"http://desk.example.com", true, "0.0.0.0:80", false, "", ""},
		{"http://desk.example.com:8080", true, "0.0.0.0:9090", false, "", "listens on port 9090"},
		{"http://192.0.2.7:8080", true, "198.51.100.1:8080", false, "", "listens on 198.51.100.1 only"},
		{"http://192.0.2.7:8080", true, "192.0.2.7:8080", false, "", ""},
		{"http://", true, "127.0.0.1:8080", false, "is not a URL", ""},
	} {
		refuse, warns := checkBaseURL(tc.base, tc.given, addr(tc.bound), tc.proxied)
		switch {
		case tc.refuse != "" && (refuse == nil || !strings.Contains(refuse.Error(), tc.refuse)):
			t.Errorf("%s given=%v on %s: refusal %v; want one saying %q", tc.base, tc.given, tc.bound, refuse, tc.refuse)
		case tc.refuse == "" && refuse != nil:
			t.Errorf("%s given=%v on %s: refused: %v", tc.base, tc.given, tc.bound, refuse)
		case tc.warn == "" && len(warns) > 0:
			t.Errorf("%s on %s (proxied %v): warned %q", tc.base, tc.bound, tc.proxied, warns)
		case tc.warn != "" && !strings.Contains(strings.Join(warns, "\n"), tc.warn):
			t.Errorf("%s on %s (proxied %v): warnings %q; want one saying %q", tc.base, tc.bound, tc.proxied, warns, tc.warn)
		}
	}
}
