package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Without a terminal the TUI refuses, but only after --demo made the demo
// organization (once) and --as found the staff member: the command's wiring
// up to the program itself.
func TestTUINeedsTerminal(t *testing.T) {
	c := newCLI(t)
	code, _, errs := c.run("tui", "--demo")
	if code != 1 || !strings.Contains(errs, "needs a terminal") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if n := c.count("customers"); n != 500 {
		t.Fatalf("--demo made %d customers, want 500", n)
	}
	// A second --demo leaves the organization alone.
	c.run("tui", "--demo")
	if n := c.count("orgs"); n != 1 {
		t.Fatalf("%d organizations after a second --demo", n)
	}
	code, _, errs = c.run("tui", "--as", "nobody@example.com")
	if code != 1 || !strings.Contains(errs, "no staff member with email nobody@example.com") {
		t.Fatalf("--as unknown: exit %d, stderr %q", code, errs)
	}
	c.env["FRONTDESK_AS"] = "desk@harbor-yoga.example"
	if code, _, errs = c.run("tui"); !strings.Contains(errs, "needs a terminal") {
		t.Fatalf("FRONTDESK_AS: exit %d, stderr %q", code, errs)
	}
}

// The real command on a pseudo-terminal: the roster opens, an invite goes
// out through the outbox worker the TUI runs (a .eml file under the data
// directory), the worker logs to frontdesk.log rather than the screen, and
// q quits cleanly.
func TestTUIOnTerminal(t *testing.T) {
	t.Setenv("TERM", "dumb") // no background-colour query nobody would answer
	c := newCLI(t)
	c.ok("demo", "--customers", "30")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	wait := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			ok := strings.Contains(screen.String(), want)
			mu.Unlock()
			if ok {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no %q on the screen:\n%q", want, screen.String())
	}
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Run(context.Background(), []string{"tui"}, tty, tty, &stderr, func(k string) string {
			if k == "FRONTDESK_DATA_DIR" {
				return c.dir
			}
			return ""
		})
	}()
	wait("Harbor Yoga")
	ptmx.Write([]byte("\t")) // the not-invited customers
	wait("[Not invited")
	ptmx.Write([]byte("i"))
	wait("to claim their account?")
	ptmx.Write([]byte("y"))
	wait("Invite sent to ")
	ptmx.Write([]byte("q"))
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("q did not quit")
	}
	if files, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "*.eml")); len(files) != 1 {
		t.Fatalf("%d messages in the outbox directory, want 1", len(files))
	}
	if log, err := os.ReadFile(filepath.Join(c.dir, "frontdesk.log")); err != nil || !strings.Contains(string(log), ".eml") {
		t.Fatalf("frontdesk.log: %v %q", err, log)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(screen.String(), "level=") {
		t.Fatalf("log lines reached the terminal:\n%q", screen.String())
	}
}

// The local TUI, like an SSH session, closes the moment its staff member is
// removed (here by `frontdesk staff remove` in another process), saying why.
func TestTUIClosesWhenAccessRemoved(t *testing.T) {
	t.Setenv("TERM", "dumb")
	c := newCLI(t)
	c.ok("demo", "--customers", "10")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100})
	screen := newWatched()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Run(context.Background(), []string{"tui", "--as", demoAdmin}, tty, tty, &stderr, func(k string) string {
			if k == "FRONTDESK_DATA_DIR" {
				return c.dir
			}
			return ""
		})
	}()
	if text, ok := screen.waitFor(0, 15*time.Second, func(s string) bool { return strings.Contains(s, "Sam Rivera (admin)") }); !ok {
		t.Fatalf("the TUI did not open:\n%q", text)
	}
	start := time.Now()
	c.ok("staff", "remove", demoAdmin)
	select {
	case code := <-done:
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("the TUI closed %s after the removal, want at once", took.Round(time.Millisecond))
		}
		if code != 1 || !strings.Contains(stderr.String(), "your access changed") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the TUI is still open 15s after its staff member was removed")
	}
}
