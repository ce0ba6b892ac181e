package main

import (
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"frontdesk/tui/sshd"
)

// Connections beyond the per-address burst are dropped before the
// handshake; other addresses are unaffected.
func TestServeRateLimitsConnectionsPerAddress(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	key := c.withKey(demoAdmin)
	s := c.serve()
	refused := 0
	for range sshd.DefaultConnBurst + 5 {
		client, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(key))
		if err != nil {
			refused++
			continue
		}
		client.Close()
	}
	// The bucket refills one token per sshd.DefaultConnEvery (3 s), so at
	// most one extra connection may slip in while the loop runs.
	if refused < 4 {
		t.Fatalf("%d of %d connections at once were refused; want at least 4", refused, sshd.DefaultConnBurst+5)
	}
	if log := s.stderr.String(); !strings.Contains(log, `msg="connection refused"`) || !strings.Contains(log, "reason=\"rate limit\"") {
		t.Fatalf("the refusals are not logged:\n%s", log)
	}
}
