package main

import (
	"encoding/json"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

var snakeCase = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)

// decodeList decodes a --json output and checks what every one promises:
// snake_case field names, and times in RFC 3339 (UTC).
func decodeList(t *testing.T, what, out string) []map[string]any {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%s: not a JSON array: %v\n%s", what, err, out)
	}
	var check func(v any)
	check = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snakeCase.MatchString(k) {
					t.Errorf("%s: field %q is not snake_case", what, k)
				}
				if s, ok := x.(string); ok && strings.HasSuffix(k, "_at") {
					if ts, err := time.Parse(time.RFC3339, s); err != nil || ts.Location() != time.UTC {
						t.Errorf("%s: %s = %q is not an RFC 3339 UTC time", what, k, s)
					}
				}
				check(x)
			}
		case []any:
			for _, x := range v {
				check(x)
			}
		}
	}
	for _, e := range list {
		check(e)
	}
	return list
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestListCommandsJSON(t *testing.T) {
	c := newCLI(t)
	c.ok("demo", "--customers", "60")

	orgs := decodeList(t, "org list", c.ok("org", "list", "--json"))
	if len(orgs) != 1 {
		t.Fatalf("org list --json: %v", orgs)
	}
	o := orgs[0]
	if got, want := keys(o), "created_at,customers,id,invite_ttl_seconds,min_password_length,name,notifications,payments_url,remind_after_seconds,reply_to,slug,time_zone,walkthrough_url"; got != want {
		t.Errorf("org fields %s, want %s", got, want)
	}
	if live := c.count(`customers WHERE archived = 0`); o["slug"] != "harbor-yoga" || o["customers"] != float64(live) || o["invite_ttl_seconds"] != float64(7*24*3600) || o["notifications"] != true {
		t.Errorf("org: %v (want %d customers on the roster)", o, live)
	}
	c.ok("org", "set", "--remind-after", "3d")
	if o := decodeList(t, "org list", c.ok("org", "list", "--json"))[0]; o["remind_after_seconds"] != float64(3*24*3600) {
		t.Errorf("remind_after_seconds after --remind-after 3d: %v", o["remind_after_seconds"])
	}

	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ desk@laptop"
	added := c.ok("staff", "key", "add", "desk@harbor-yoga.example", key)
	staff := decodeList(t, "staff list", c.ok("staff", "list", "--json"))
	if len(staff) != 3 {
		t.Fatalf("staff list --json: %v", staff)
	}
	roles := map[string]bool{}
	for _, s := range staff {
		if got, want := keys(s), "created_at,email,id,name,role,ssh_keys"; got != want {
			t.Errorf("staff fields %s, want %s", got, want)
		}
		roles[s["role"].(string)] = true
		ks, ok := s["ssh_keys"].([]any)
		if !ok {
			t.Errorf("%v: ssh_keys is not an array", s)
			continue
		}
		if s["email"] != "desk@harbor-yoga.example" {
			if len(ks) != 0 {
				t.Errorf("%v has keys", s)
			}
			continue
		}
		if len(ks) != 1 {
			t.Fatalf("desk's keys: %v", ks)
		}
		k := ks[0].(map[string]any)
		if fp, _ := k["fingerprint"].(string); !strings.HasPrefix(fp, "SHA256:") || !strings.Contains(added, fp) || k["added_at"] == nil {
			t.Errorf("desk's key %v; staff key add said %q", k, added)
		}
	}
	if len(roles) != 3 || !roles["owner"] || !roles["admin"] || !roles["staff"] {
		t.Errorf("roles %v", roles)
	}

	before := len(decodeList(t, "outbox list", c.ok("outbox", "list", "--json", "--limit", "1000"))) // the demo's history
	id, email := c.firstWith("not-invited")
	c.ok("invite", email) // the file transport: sent at once
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	c.useSMTP(dead)
	qid, qemail := c.firstWith("not-invited")
	c.ok("invite", qemail) // nobody answers: queued
	msgs := decodeList(t, "outbox list", c.ok("outbox", "list", "--json", "--limit", "1000"))
	if len(msgs) != before+2 {
		t.Fatalf("outbox list --json: %d messages, want the %d of the demo and 2 more", len(msgs), before)
	}
	queued, sent := msgs[0], msgs[1] // newest first
	if got, want := keys(sent), "attempts,bounced_at,bounced_by,created_at,customer_id,customer_name,id,kind,last_error,link_opened_at,next_attempt_at,reply,sent_at,status,to,what_happened"; got != want {
		t.Errorf("outbox fields %s, want %s", got, want)
	}
	if sent["status"] != "sent" || sent["kind"] != "invite" || sent["to"] != email || sent["customer_id"] != float64(id) || sent["sent_at"] == nil || sent["next_attempt_at"] != nil {
		t.Errorf("sent message: %v", sent)
	}
	if sent["customer_name"] == "" || sent["link_opened_at"] != nil {
		t.Errorf("sent message's customer and link: %v", sent)
	}
	if queued["status"] != "queued" || queued["to"] != qemail || queued["customer_id"] != float64(qid) || queued["next_attempt_at"] == nil || queued["sent_at"] != nil || queued["last_error"] == "" || queued["what_happened"] == "" {
		t.Errorf("queued message: %v", queued)
	}
	for _, m := range msgs {
		if b, _ := json.Marshal(m); strings.Contains(string(b), "/claim/") {
			t.Errorf("outbox list --json shows a link: %s", b)
		}
	}
}

// invite --json: one object per customer named, whatever became of it,
// with the same exit status as without.
func TestInviteJSON(t *testing.T) {
	mail := startMailServer(t)
	c := newCLI(t)
	c.ok("demo", "--customers", "60")
	c.useSMTP(mail.addr)
	sentID, sentEmail := c.firstWith("not-invited")
	noEmailID, _ := c.firstWith("no-email")
	_, claimedEmail := c.firstWith("claimed")

	code, out, errs := c.run("invite", "--json", sentEmail, strconv.FormatInt(noEmailID, 10), claimedEmail, "nobody@nowhere.example")
	if code != 1 {
		t.Fatalf("invite with refusals: exit %d, stderr %q", code, errs)
	}
	list := decodeList(t, "invite", out)
	if len(list) != 4 {
		t.Fatalf("invite --json gave %d objects, want one per customer:\n%s", len(list), out)
	}
	// In the order of the arguments.
	var results []string
	for _, j := range list {
		if got, want := keys(j), "customer_id,email,error,link_expires_at,message,name,next_attempt_at,outbox_id,reason,reply,result"; got != want {
			t.Errorf("invite fields %s, want %s", got, want)
		}
		results = append(results, j["result"].(string)+" "+j["reason"].(string))
	}
	if got := strings.Join(results, ", "); got != "sent , refused no_email, refused claimed, refused not_found" {
		t.Fatalf("results %s:\n%s", got, out)
	}
	s := list[0]
	exp, _ := time.Parse(time.RFC3339, s["link_expires_at"].(string))
	if s["customer_id"] != float64(sentID) || s["email"] != sentEmail || !strings.HasPrefix(s["reply"].(string), "250") || s["outbox_id"] == nil ||
		s["reason"] != "" || time.Until(exp) < 6*24*time.Hour || time.Until(exp) > 8*24*time.Hour || s["name"] == "" {
		t.Errorf("sent: %v", s)
	}
	reasons := map[string]map[string]any{}
	for _, r := range list[1:] {
		reasons[r["reason"].(string)] = r
		if r["link_expires_at"] != nil || r["outbox_id"] != nil || r["message"] == "" {
			t.Errorf("refused: %v", r)
		}
	}
	if r := reasons["no_email"]; r == nil || r["customer_id"] != float64(noEmailID) || r["name"] == "" {
		t.Errorf("no email: %v", reasons)
	}
	if r := reasons["claimed"]; r == nil || r["email"] != claimedEmail {
		t.Errorf("claimed: %v", reasons)
	}
	if r := reasons["not_found"]; r == nil || r["customer_id"] != nil || !strings.Contains(r["message"].(string), "nobody@nowhere.example") {
		t.Errorf("not found: %v", reasons)
	}

	// The server refuses for good: failed, with its words.
	mail.reject = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	_, failEmail := c.firstWith("not-invited")
	code, out, _ = c.run("invite", "--json", failEmail)
	if f := decodeList(t, "invite", out); code != 1 || len(f) != 1 || f[0]["result"] != "failed" || !strings.Contains(f[0]["error"].(string), "User unknown") || f[0]["outbox_id"] == nil {
		t.Errorf("550: exit %d, %v", code, f)
	}
	// Nobody answers: queued, with the next attempt; exit 0, nothing lost.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	c.useSMTP(dead)
	_, qEmail := c.firstWith("not-invited")
	code, out, _ = c.run("invite", "--json", qEmail)
	if q := decodeList(t, "invite", out); code != 0 || len(q) != 1 || q[0]["result"] != "queued" || q[0]["error"] == "" || q[0]["next_attempt_at"] == nil {
		t.Errorf("server down: exit %d, %v", code, q)
	}

	// --all: an object for each customer it took, and nothing else on
	// stdout.
	c.useSMTP(mail.addr)
	mail.reject = nil
	eligible := len(decodeList(t, "customers", c.ok("customers", "list", "--json", "--status", "not-invited")))
	code, out, errs = c.run("invite", "--all", "--status", "not-invited", "--json", "--yes")
	all := decodeList(t, "invite --all", out)
	if code != 0 || len(all) != eligible || eligible == 0 {
		t.Fatalf("--all --json: exit %d, %d objects for %d eligible; stderr %q", code, len(all), eligible, errs)
	}
	for _, j := range all {
		if r := j["result"]; r != "sent" && (r != "refused" || j["reason"] != "invalid_email") {
			t.Errorf("--all: %v", j)
		}
	}
	// Again: only the invalid addresses are left, each refused again.
	for _, j := range decodeList(t, "second invite --all", c.ok("invite", "--all", "--status", "not-invited", "--json")) {
		if j["result"] != "refused" {
			t.Errorf("second --all: %v", j)
		}
	}
}
