package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// postBounce posts body to the server's path with basic auth user:pass
// (none when both are empty) and returns the status.
func (s *served) postBounce(path string, body []byte, user, pass string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.http+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A mail provider reports through `frontdesk serve` that an invite it
// accepted bounced: the customer shows "Delivery failed" and the outbox the
// provider's words; a call without the secret, or an SNS message for
// another topic or signed elsewhere, changes nothing.
func TestServeRecordsBounces(t *testing.T) {
	const providerID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
	const topic = "arn:aws:sns:us-west-2:123456789012:MyTopic"
	mail := startMailServer(t)
	// The provider answers DATA with its own id, as Postmark's SMTP does.
	mail.rejectData = &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as " + providerID}
	c := newCLI(t)
	c.ok("demo", "--customers", "20")
	c.useSMTP(mail.addr)
	id, email := c.firstWith("not-invited")
	c.ok("invite", email)
	c.env["FRONTDESK_BOUNCE_SECRET"] = "postmark-webhook-secret-7f3a9c"
	s := c.serve("--bounce-sns-topics", topic)

	b, err := os.ReadFile("../../mailer/bounce/testdata/postmark_bounce.json")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p["MessageID"], p["Email"] = providerID, email
	body, _ := json.Marshal(p)

	status := func() string {
		var list []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(c.ok("customers", "list", "--json", "--search", email)), &list); err != nil || len(list) != 1 || list[0].ID != id {
			t.Fatalf("customers list --search %s: %v, %v", email, list, err)
		}
		return list[0].Status
	}
	if got := status(); got != "invited" {
		t.Fatalf("after the invite: %s", got)
	}

	if code, _ := s.postBounce("/webhooks/postmark", body, "postmark", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("Postmark with a wrong secret: %d, want 401", code)
	}
	sns, err := os.ReadFile("../../mailer/bounce/testdata/sns_notification.json")
	if err != nil {
		t.Fatal(err)
	}
	// (No test here reaches AWS: a certificate URL off SNS's hosts, or an
	// unconfigured topic, is refused before anything is fetched.)
	offHost := bytes.ReplaceAll(sns, []byte("https://sns.us-west-2.amazonaws.com/SimpleNotificationService"), []byte("https://sns.example.com/SimpleNotificationService"))
	if code, _ := s.postBounce("/webhooks/ses", offHost, "", ""); code != http.StatusForbidden {
		t.Errorf("SNS's sample with its certificate on another host: %d, want 403", code)
	}
	other := bytes.ReplaceAll(sns, []byte(topic), []byte("arn:aws:sns:us-west-2:123456789012:Other"))
	if code, _ := s.postBounce("/webhooks/ses", other, "", ""); code != http.StatusForbidden {
		t.Errorf("SNS's sample for another topic: %d, want 403", code)
	}
	if got := status(); got != "invited" {
		t.Fatalf("after refused calls: %s, want still invited", got)
	}
	if log := s.stderr.String(); strings.Count(log, `msg="bounce report refused"`) != 3 {
		t.Errorf("the refusals are not logged:\n%s", log)
	}

	if code, answer := s.postBounce("/webhooks/postmark", body, "postmark", "postmark-webhook-secret-7f3a9c"); code != http.StatusOK {
		t.Fatalf("Postmark's bounce: %d %q\n%s", code, answer, s.stderr)
	}
	if got := status(); got != "failed" {
		t.Errorf("after the bounce: %s, want failed (Delivery failed)", got)
	}
	if out := c.ok("outbox", "list"); !strings.Contains(out, "bounced") || !strings.Contains(out, "Test bounce details") {
		t.Errorf("outbox list does not show the bounce:\n%s", out)
	}
}
