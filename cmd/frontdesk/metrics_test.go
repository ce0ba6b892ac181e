package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	gossh "golang.org/x/crypto/ssh"
)

// scraped is one scrape of a /metrics page, parsed by Prometheus's own
// text parser.
type scraped map[string]*dto.MetricFamily

func scrape(t *testing.T, addr string) scraped {
	t.Helper()
	res, err := http.Get(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", addr, res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("the metrics page does not parse: %v", err)
	}
	return fams
}

// value is the sample of name whose labels include labels (name, value
// pairs): a counter's or gauge's value, a histogram's count. ok is false
// when there is no such sample.
func (s scraped) value(name string, labels ...string) (float64, bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// metricsURLRE finds the metrics page in serve's "serving" line.
var metricsURLRE = regexp.MustCompile(`metrics=(http://\S+/metrics)`)

// waitMetrics scrapes until ok holds, for up to 15 s: what the server
// counts after answering (a session's end, a message the worker sends)
// lands a moment after the client sees it.
func waitMetrics(t *testing.T, page string, what string, ok func(scraped) bool) scraped {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := scrape(t, page)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not in the metrics within 15s", what)
		}
		<-time.After(20 * time.Millisecond)
	}
}

// A running serve, after real traffic (an invite sent over SSH to an SMTP
// server, a key refused, a customer claiming their account in the web, a
// wrong password, a reset email the mail server refuses, too many link
// requests), shows each on its metrics page, in Prometheus's format.
func TestServeMetricsAfterRealTraffic(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.useSMTP(mail.addr)
	c.env["FRONTDESK_BASE_URL"] = "http://desk.example"
	c.ok("demo", "--customers", "40")
	key := c.withKey(demoAdmin)
	s := c.serve("--metrics-addr", "127.0.0.1:0")
	m := metricsURLRE.FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("the serving line does not name the metrics page:\n%s", s.stderr)
	}
	page := m[1]

	before := scrape(t, page)
	for _, name := range []string{"frontdesk_mail_sent_total", "frontdesk_claims_total", "frontdesk_signin_failures_total"} {
		if v, ok := before.value(name); !ok || v != 0 {
			t.Fatalf("%s before any traffic: %v (present %v); want 0", name, v, ok)
		}
	}

	// SSH: one session invites one customer; a stranger's key is refused.
	tm := s.login(key, 120, 30)
	tm.wait("Harbor Yoga · Sam Rivera (admin)", "Not invited")
	tm.send("\t")
	tm.wait("[Not invited")
	tm.send("i")
	tm.wait("to claim their account?")
	tm.send("y")
	tm.wait("Invite sent to ")
	waitMetrics(t, page, "one SSH session open", func(s scraped) bool {
		v, _ := s.value("frontdesk_ssh_sessions_open")
		return v == 1
	})
	stranger, _ := newKey(t)
	if _, err := dialSSH(t, s.ssh, c.dir, gossh.PublicKeys(stranger)); err == nil {
		t.Fatal("an unregistered key got in")
	}

	// The web: the invite's link, the claim, a wrong password.
	got := mail.received()
	if len(got) != 1 {
		t.Fatalf("the SMTP server received %d messages; want the invite", len(got))
	}
	link := regexp.MustCompile(`http://desk\.example/claim/[A-Za-z0-9_-]{43}`).FindString(got[0])
	if link == "" {
		t.Fatalf("no claim link in:\n%s", got[0])
	}
	mail.mu.Lock()
	email := mail.rcpts[0]
	mail.mu.Unlock()
	base := "http://" + s.http
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func(res *http.Response, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if st := status(client.Get(strings.Replace(link, "http://desk.example", base, 1))); st != http.StatusSeeOther {
		t.Fatalf("opening the link: %d", st)
	}
	pw := "a quiet harbour at dawn 42"
	// Setting the password signs the customer in: the answer is the way to their account.
	res, err := client.PostForm(base+"/claim", url.Values{"password": {pw}, "confirm": {pw}})
	if st := status(res, err); st != http.StatusSeeOther || res.Header.Get("Location") != "/account?m=claimed" {
		t.Fatalf("claiming: %d to %q; want 303 to /account?m=claimed", st, res.Header.Get("Location"))
	}
	if st := status(http.PostForm(base+"/login", url.Values{"email": {email}, "password": {"not the password at all"}})); st != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", st)
	}

	// A reset link the mail server refuses: a 5xx failure.
	mail.mu.Lock()
	mail.reject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	mail.mu.Unlock()
	if st := status(http.PostForm(base+"/forgot", url.Values{"email": {email}})); st != http.StatusOK {
		t.Fatalf("forgot: %d", st)
	}

	// A health check: counted, and at the default level not logged.
	if st := status(http.Get(base + "/healthz")); st != http.StatusOK {
		t.Fatalf("healthz: %d", st)
	}

	// Links asked for until the limit answers 429.
	limited := false
	for i := 0; i < 60 && !limited; i++ {
		limited = status(http.Get(base+"/claim/"+strings.Repeat("x", 43))) == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("60 link requests from one address were never limited")
	}

	tm.send("q")
	if err := tm.closed(10 * time.Second); err != nil {
		t.Fatalf("quitting the TUI: %v", err)
	}
	final := waitMetrics(t, page, "the session closed, the reset refused and the stranger counted", func(s scraped) bool {
		open, _ := s.value("frontdesk_ssh_sessions_open")
		failed, _ := s.value("frontdesk_mail_failed_total", "reply_class", "5xx")
		refused, _ := s.value("frontdesk_ssh_refused_total", "reason", "unknown_key")
		return open == 0 && failed == 1 && refused >= 1
	})

	exact := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"frontdesk_mail_sent_total", []string{"reply_class", "2xx"}, 1},
		{"frontdesk_mail_failed_total", []string{"reply_class", "5xx"}, 1},
		{"frontdesk_invites_issued_total", []string{"kind", "invite"}, 1},
		{"frontdesk_invites_issued_total", []string{"kind", "reset"}, 1},
		{"frontdesk_claims_total", nil, 1},
		{"frontdesk_signin_failures_total", nil, 1},
		{"frontdesk_http_requests_total", []string{"route", "GET /claim/{token}", "status", "303"}, 1},
		{"frontdesk_http_requests_total", []string{"route", "POST /claim", "status", "303"}, 1},
		{"frontdesk_http_requests_total", []string{"route", "POST /login", "status", "401"}, 1},
		{"frontdesk_http_request_duration_seconds", []string{"route", "POST /claim"}, 1},
		{"frontdesk_http_requests_total", []string{"route", "GET /healthz", "status", "200"}, 1},
		{"frontdesk_ssh_sessions_open", nil, 0},
	}
	for _, e := range exact {
		if v, ok := final.value(e.name, e.labels...); !ok || v != e.want {
			t.Errorf("%s%v = %v (present %v); want %v", e.name, e.labels, v, ok, e.want)
		}
	}
	atLeast := []struct {
		name   string
		labels []string
	}{
		{"frontdesk_ssh_refused_total", []string{"reason", "unknown_key"}},
		{"frontdesk_rate_limited_total", []string{"kind", "web_token"}},
		{"frontdesk_http_requests_total", []string{"route", "GET /claim/{token}", "status", "429"}},
		{"frontdesk_database_size_bytes", nil},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
	}
	for _, e := range atLeast {
		if v, ok := final.value(e.name, e.labels...); !ok || v < 1 {
			t.Errorf("%s%v = %v (present %v); want at least 1", e.name, e.labels, v, ok)
		}
	}
	// The outbox gauge is what the database holds, whoever sent it.
	for _, state := range []string{"queued", "sent", "failed", "bounced"} {
		want := c.count(fmt.Sprintf(`outbox WHERE status = '%s'`, state))
		if v, ok := final.value("frontdesk_outbox_messages", "state", state); !ok || v != float64(want) {
			t.Errorf("frontdesk_outbox_messages{state=%q} = %v (present %v); the database has %d", state, v, ok, want)
		}
	}

	// The access log: one line per request, with the route, never the token.
	log := s.stderr.String()
	token := link[strings.LastIndex(link, "/")+1:]
	if strings.Contains(log, token) {
		t.Errorf("the server log shows the claim token:\n%s", log)
	}
	if strings.Contains(log, `route="GET /healthz"`) {
		t.Errorf("a health check is logged at the default level:\n%s", log)
	}
	for _, want := range []string{
		`msg=request part=http method=GET route="GET /claim/{token}" status=303 bytes=`,
		`msg=request part=http method=POST route="POST /login" status=401 bytes=`,
		"client=127.0.0.1",
		`msg="session start"`, `msg="session end"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the server log lacks %q:\n%s", want, log)
		}
	}
}

// --metrics-addr is checked like the other addresses: a value that is not
// HOST:PORT, or a port in use, is a usage error naming the flag, before
// anything is served.
func TestServeMetricsAddrMistakes(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "5")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, addr := range []string{"9090", taken.Addr().String()} {
		code, _, errs := c.run("serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--metrics-addr", addr)
		if code != 2 || !strings.Contains(errs, "--metrics-addr") || !strings.Contains(errs, addr) {
			t.Errorf("--metrics-addr %s: exit %d, %q; want 2 naming the flag", addr, code, errs)
		}
	}
}
