package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// fixRE is the command serve's log line tells the operator to run.
var fixRE = regexp.MustCompile(`fix=("(?:[^"\\]|\\.)*"|\S+)`)

// shellWords splits a command line the way a POSIX shell would for the
// quoting serve uses: bare words, 'single' and "double" quotes.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch ch := line[i]; {
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(line[i+1:], ch)
			if end < 0 {
				t.Fatalf("unbalanced quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// The line serve prints while no staff member has a key is the command for
// this server: run as printed, from another folder and without the
// server's environment, it registers the key where the server looks, and
// that key then gets a session.
func TestServeKeyHintIsTheRunningServersCommand(t *testing.T) {
	c := newCLI(t)
	c.dir = filepath.Join(t.TempDir(), "studio data") // a space: the command must quote it
	c.ok("demo", "--customers", "5")
	s := c.serve()
	m := fixRE.FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("serve did not print the staff key add line:\n%s", s.stderr)
	}
	line := m[1]
	if strings.HasPrefix(line, `"`) {
		var err error
		if line, err = strconv.Unquote(line); err != nil {
			t.Fatal(err)
		}
	}
	key, pub := newKey(t)
	pubFile := filepath.Join(t.TempDir(), "id_ed25519.pub")
	if err := os.WriteFile(pubFile, []byte(pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	words := shellWords(t, line)
	if len(words) < 2 || words[0] != "frontdesk" {
		t.Fatalf("not a frontdesk command: %q", line)
	}
	for i, w := range words {
		if w == "~/.ssh/id_ed25519.pub" {
			words[i] = pubFile // what the shell's ~ would reach
		}
	}
	t.Chdir(t.TempDir())
	var out, errb bytes.Buffer
	code := Run(context.Background(), words[1:], strings.NewReader(""), &out, &errb, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("%q: exit %d\n%s%s", line, code, out.String(), errb.String())
	}
	if _, err := os.Stat("frontdesk-data"); err == nil {
		t.Errorf("%q made a database in the current folder", line)
	}
	s.login(key, 100, 30).wait("Harbor Yoga")
}

// opensshKey writes key as OpenSSH writes a private key file.
func opensshKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// OpenSSH asks again by keyboard-interactive up to NumberOfPasswordPrompts
// (3) times; the refusal is shown once all the same.
func TestOpenSSHShowsTheKeyRefusalOnce(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no OpenSSH client (ssh) installed")
	}
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve()
	host, port, _ := net.SplitHostPort(s.ssh)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshBin, "-F", "/dev/null", "-p", port, "-i", opensshKey(t),
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=no",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "PreferredAuthentications=publickey,keyboard-interactive", "-o", "ConnectTimeout=10",
		"-T", "staff@"+host, "true")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("an unregistered key got in:\n%s", out)
	}
	if n := strings.Count(string(out), "frontdesk does not know this SSH key"); n != 1 {
		t.Fatalf("OpenSSH showed the refusal %d times; want once:\n%s", n, out)
	}
	if !strings.Contains(string(out), "frontdesk staff key add YOUR_EMAIL") {
		t.Errorf("the refusal does not say what to ask for:\n%s", out)
	}
}
