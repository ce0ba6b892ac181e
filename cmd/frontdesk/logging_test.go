package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jsonLines parses every line of a JSON log; it fails the test on a line
// that is not one JSON object.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON (%v): %q", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestLogFlags(t *testing.T) {
	c := newCLI(t)
	for _, bad := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		code, _, errs := c.run(append([]string{"org", "list"}, bad...)...)
		if code != 2 || !strings.Contains(errs, bad[0]) || !strings.Contains(errs, "use ") {
			t.Errorf("%v: exit %d, %q; want 2 naming the flag and its values", bad, code, errs)
		}
	}
	c.env["FRONTDESK_LOG_LEVEL"] = "verbose"
	if code, _, errs := c.run("org", "list"); code != 2 || !strings.Contains(errs, "FRONTDESK_LOG_LEVEL") {
		t.Errorf("a bad FRONTDESK_LOG_LEVEL: exit %d, %q", code, errs)
	}
	delete(c.env, "FRONTDESK_LOG_LEVEL")

	mail := startMailServer(t)
	c.useSMTP(mail.addr)
	c.ok("demo", "--customers", "20")

	// A one-shot command keeps its output to what it was asked: warnings
	// and errors only, unless told otherwise.
	_, first := c.firstWith("not-invited")
	code, _, errs := c.run("invite", first)
	if code != 0 || strings.Contains(errs, "mail sent") {
		t.Fatalf("invite with the default log level: exit %d, stderr %q", code, errs)
	}
	_, second := c.firstWith("not-invited")
	code, _, errs = c.run("invite", second, "--log-level", "info", "--log-format", "json")
	if code != 0 {
		t.Fatalf("invite --log-level info --log-format json: exit %d, %q", code, errs)
	}
	var sent map[string]any
	for _, l := range jsonLines(t, errs) {
		if l["msg"] == "mail sent" {
			sent = l
		}
	}
	if sent == nil || sent["level"] != "INFO" || sent["outbox_id"] == nil || sent["time"] == nil {
		t.Fatalf("no JSON line for the mail sent in:\n%s", errs)
	}
}

// serve's log in JSON: every line one object, one per HTTP request with
// its route, status, size, duration and client; health checks only at
// debug.
func TestServeLogsJSON(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newWatched()
	done := make(chan int, 1)
	env := map[string]string{"FRONTDESK_DATA_DIR": c.dir, "FRONTDESK_EMAIL_DNS": "off"}
	go func() {
		done <- Run(ctx, []string{"serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"},
			strings.NewReader(""), io.Discard, stderr, func(k string) string { return env[k] })
		stderr.close()
	}()
	text, ok := stderr.waitFor(0, 15*time.Second, func(s string) bool { return strings.Contains(s, `"msg":"serving"`) })
	if !ok {
		t.Fatalf("serve did not start:\n%s", text)
	}
	var addr string
	for _, l := range jsonLines(t, text[:strings.LastIndexByte(text, '\n')+1]) {
		if l["msg"] == "serving" {
			addr, _ = l["http"].(string)
		}
	}
	for _, path := range []string{"/healthz", "/login"} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d:\n%s", code, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	routes := map[string]map[string]any{}
	for _, l := range jsonLines(t, stderr.String()) {
		if l["msg"] == "request" {
			routes[l["route"].(string)] = l
		}
	}
	login, health := routes["GET /login"], routes["GET /healthz"]
	if login == nil || health == nil {
		t.Fatalf("want request lines for GET /login and, at debug, GET /healthz:\n%s", stderr)
	}
	if login["level"] != "INFO" || login["method"] != "GET" || login["status"] != float64(200) || login["client"] != "127.0.0.1" ||
		login["bytes"].(float64) <= 0 || login["duration"] == nil {
		t.Errorf("the sign-in page's request line: %v", login)
	}
	if health["level"] != "DEBUG" {
		t.Errorf("a health check is logged at %v; want DEBUG", health["level"])
	}
}

// serve's log is its standard error, with nothing to reopen: a SIGHUP (a
// logrotate script, an operator expecting a reload) is logged and changes
// nothing, where Go's default would end the process on the spot.
func TestServeSurvivesSIGHUP(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	s := c.serve()
	from := s.stderr.Len()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if text, ok := s.stderr.waitFor(from, 15*time.Second, func(l string) bool { return strings.Contains(l, "SIGHUP ignored") }); !ok {
		t.Fatalf("no word of the SIGHUP in the log:\n%s", text)
	}
	res, err := http.Get("http://" + s.http + "/healthz")
	if err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("after SIGHUP, healthz answers %d", res.StatusCode)
	}
	if code, _ := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("serve exit %d after SIGHUP; log:\n%s", code, s.stderr)
	}
}
