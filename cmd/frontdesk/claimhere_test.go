package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"frontdesk/tui/qrscan"
)

// Over SSH, in the client's 80×24 colour terminal: on a profile, c and y
// draw a QR code that, read off the client's screen, is a claim link that
// opens the password form on the server's web.
func TestServeClaimHereOverSSH(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "40")
	s := c.serve()
	tm := s.login(c.withKey(demoAdmin), 80, 24)
	tm.wait("Not invited")
	tm.send("\t")
	tm.wait("[Not invited")
	tm.send("\r")
	tm.wait("Member since")
	tm.send("c")
	tm.wait("a claim code to scan here?", "A new link replaces any earlier one")
	tm.send("y")
	tm.wait("Scan to claim:", "No email was sent", "esc/n close")

	// The first frame of the code: every line drawn whole.
	raw := tm.out.String()[tm.mark:]
	plain := strings.ReplaceAll(tm.screen(), "\r", "")
	frame := plain[strings.Index(plain, "Scan to claim:"):]
	lines := strings.Split(frame, "\n")
	if len(lines) < 23 {
		t.Fatalf("the code's frame has %d lines:\n%s", len(lines), frame)
	}
	link, err := qrscan.Read(strings.Join(lines[:23], "\n"), false, true)
	if err != nil {
		t.Fatalf("the code on the SSH client's screen does not decode: %v\n%s", err, frame)
	}
	if !strings.Contains(raw, "48;5;") {
		t.Errorf("the code has no background colour set on a 256-colour client:\n%q", raw[:min(len(raw), 400)])
	}
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/claim/") {
		t.Fatalf("decoded %q", link)
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get("http://" + s.http + u.Path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `autocomplete="new-password"`) {
		t.Fatalf("the decoded link opens %d:\n%s", resp.StatusCode, body)
	}
	if n := c.count("invites WHERE channel = 'desk' AND outbox_id IS NULL"); n != 1 {
		t.Errorf("%d invites shown at the desk without email, want 1", n)
	}
}
