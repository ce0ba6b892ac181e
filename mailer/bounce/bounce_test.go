package bounce_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"frontdesk/mailer/bounce"
	"frontdesk/store"
)

// Ids of the test's messages as the providers would report them: Postmark's
// is a UUID its SMTP answer carried, SES's the id its SMTP interface
// answered with ("250 Ok <id>").
const (
	postmarkID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
	sesID      = "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000"
	sesID2     = "0000014644fe5ef6-11111111-2222-3333-4444-555555555555-000000"
)

// postmarkSample is Postmark's documented bounce payload for message s,
// with type typ.
func postmarkSample(t *testing.T, s *sent, typ string) []byte {
	t.Helper()
	p := sample(t, "postmark_bounce.json")
	p["MessageID"], p["Email"], p["Type"] = postmarkID, s.msg.To, typ
	return mustJSON(t, p)
}

func (f *fixture) postPostmark(body []byte, user, pass string) (int, string) {
	f.t.Helper()
	return f.post(bounce.PostmarkPath, body, "Content-Type", "application/json", "Authorization", basic(user, pass))
}

func TestPostmarkBounceMarksTheMessageAndEndsTheLink(t *testing.T) {
	f := newFixture(t)
	s := f.invite("john@example.com", "Ok: queued as "+postmarkID)
	other := f.invite("mary@example.com", "Ok: queued as 6d0e2c1b-0000-4000-8000-000000000000")
	body := postmarkSample(t, s, "HardBounce")

	code, answer := f.postPostmark(body, "postmark", secret)
	if code != http.StatusOK || !strings.Contains(answer, "recorded hard bounce") {
		t.Fatalf("Postmark's bounce: %d %q", code, answer)
	}
	want := state{Status: store.OutboxBounced, Reason: "Test bounce details", Customer: store.StatusFailed, LinkLive: false, Audits: 1}
	if got := f.state(s); got != want {
		t.Errorf("after the bounce: %+v\nwant %+v", got, want)
	}
	if got := f.state(other); got != untouched {
		t.Errorf("another customer's message after the bounce: %+v", got)
	}
	// Postmark retries a webhook it thinks failed: the same report again
	// is answered 200 and changes nothing.
	if code, answer := f.postPostmark(body, "postmark", secret); code != http.StatusOK || !strings.Contains(answer, "already recorded") {
		t.Errorf("the same bounce again: %d %q", code, answer)
	}
	if got := f.state(s); got != want {
		t.Errorf("after the repeat: %+v\nwant %+v", got, want)
	}
	if log := f.log.String(); !strings.Contains(log, `msg="bounce recorded"`) || !strings.Contains(log, "matched_by=provider-id") {
		t.Errorf("the log does not record the bounce:\n%s", log)
	}
}

func TestPostmarkSoftBounceKeepsTheLink(t *testing.T) {
	f := newFixture(t)
	s := f.invite("john@example.com", "Ok: queued as "+postmarkID)
	p := sample(t, "postmark_bounce.json")
	p["MessageID"], p["Email"], p["Type"], p["Details"] = postmarkID, s.msg.To, "SoftBounce", "smtp;452 4.2.2 Mailbox full"
	if code, answer := f.postPostmark(mustJSON(t, p), "postmark", secret); code != http.StatusOK {
		t.Fatalf("soft bounce: %d %q", code, answer)
	}
	want := state{Status: store.OutboxSent, Reason: "smtp;452 4.2.2 Mailbox full", Customer: store.StatusInvited, LinkLive: true, Audits: 1}
	if got := f.state(s); got != want {
		t.Errorf("after a soft bounce: %+v\nwant %+v", got, want)
	}
	// Reports that are not about delivery change nothing.
	for _, typ := range []string{"AutoResponder", "SpamNotification"} {
		if code, answer := f.postPostmark(postmarkSample(t, s, typ), "postmark", secret); code != http.StatusOK || !strings.Contains(answer, "ignored") {
			t.Errorf("%s: %d %q; want 200, ignored", typ, code, answer)
		}
	}
	p["RecordType"] = "Delivery"
	if code, answer := f.postPostmark(mustJSON(t, p), "postmark", secret); code != http.StatusOK || !strings.Contains(answer, "ignored") {
		t.Errorf("a delivery webhook: %d %q; want 200, ignored", code, answer)
	}
	if got := f.state(s); got != want {
		t.Errorf("after reports that are not bounces: %+v\nwant %+v", got, want)
	}
}

func TestPostmarkRefusesWrongCredentials(t *testing.T) {
	f := newFixture(t)
	s := f.invite("john@example.com", "Ok: queued as "+postmarkID)
	body := postmarkSample(t, s, "HardBounce")
	for _, c := range []struct {
		name string
		head []string
	}{
		{"no credentials", nil},
		{"a wrong password", []string{"Authorization", basic("postmark", secret+"x")}},
		{"the secret as user name", []string{"Authorization", basic(secret, "")}},
		{"a prefix of the secret", []string{"Authorization", basic("postmark", secret[:10])}},
		{"a bearer token", []string{"Authorization", "Bearer " + secret}},
	} {
		code, _ := f.post(bounce.PostmarkPath, body, c.head...)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", c.name, code)
		}
	}
	if got := f.state(s); got != untouched {
		t.Errorf("after refused calls: %+v, want it untouched", got)
	}
	if n := strings.Count(f.log.String(), `msg="bounce report refused"`); n != 5 {
		t.Errorf("%d refusals logged, want 5:\n%s", n, f.log)
	}

	// Without a secret configured nothing gets in, not even an empty
	// password.
	g := newFixtureWith(t, fixtureOpts{topics: []string{topic}})
	s = g.invite("john@example.com", "Ok: queued as "+postmarkID)
	if code, _ := g.postPostmark(body, "postmark", ""); code != http.StatusForbidden {
		t.Errorf("no secret configured: %d, want 403", code)
	}
	if got := g.state(s); got != untouched {
		t.Errorf("with no secret configured: %+v, want it untouched", got)
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest(http.MethodPost, "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

// sesNotification is SNS's documented notification carrying SES's
// documented bounce for recipient, naming our message by its Message-ID and
// SES's id, signed by key with the given signature version.
func (f *fixture) sesNotification(s *sent, recipient, sesMessageID, bounceType string) map[string]any {
	f.t.Helper()
	n := sample(f.t, "ses_bounce.json")
	b := n["bounce"].(map[string]any)
	b["bounceType"] = bounceType
	r := b["bouncedRecipients"].([]any)[0].(map[string]any)
	r["emailAddress"] = recipient
	r["diagnosticCode"] = "smtp; 550 5.1.1 <" + recipient + ">... User"
	mail := n["mail"].(map[string]any)
	mail["messageId"] = sesMessageID
	mail["commonHeaders"].(map[string]any)["messageId"] = s.msg.MessageID
	for _, h := range mail["headers"].([]any) {
		if h := h.(map[string]any); h["name"] == "Message-ID" {
			h["value"] = "<" + s.msg.MessageID + ">"
		}
	}
	env := sample(f.t, "sns_notification.json")
	env["Message"] = string(mustJSON(f.t, n))
	return env
}

func (f *fixture) postSNS(body []byte) (int, string) {
	f.t.Helper()
	return f.post(bounce.SESPath, body, "Content-Type", "text/plain; charset=UTF-8", "x-amz-sns-message-type", "Notification")
}

func TestSESBounceThroughSNS(t *testing.T) {
	f := newFixture(t)
	jane := f.invite("jane@example.com", "Ok "+sesID)
	richard := f.invite("richard@example.com", "Ok "+sesID2)
	mary := f.invite("mary@example.com", "Ok 0000014644fe5ef6-99999999-2222-3333-4444-555555555555-000000")

	// Signature version 1 (SHA1withRSA), SNS's default.
	code, answer := f.postSNS(signSNS(t, f.sesNotification(jane, "jane@example.com", sesID, "Permanent"), f.sns.key, "1"))
	if code != http.StatusOK || !strings.Contains(answer, "recorded hard bounce") {
		t.Fatalf("SES bounce, signature version 1: %d %q\n%s", code, answer, f.log)
	}
	want := state{Status: store.OutboxBounced, Reason: "smtp; 550 5.1.1 <jane@example.com>... User", Customer: store.StatusFailed, Audits: 1}
	if got := f.state(jane); got != want {
		t.Errorf("after the bounce: %+v\nwant %+v", got, want)
	}
	if !strings.Contains(f.log.String(), "matched_by=message-id") {
		t.Errorf("the bounce was not found by our Message-ID:\n%s", f.log)
	}

	// Version 2 (SHA256withRSA), without the original headers: found by
	// SES's own id in the reply to DATA.
	n := f.sesNotification(richard, "richard@example.com", sesID2, "Permanent")
	var ses map[string]any
	json.Unmarshal([]byte(n["Message"].(string)), &ses)
	mail := ses["mail"].(map[string]any)
	delete(mail, "headers")
	delete(mail, "commonHeaders")
	delete(mail, "headersTruncated")
	n["Message"] = string(mustJSON(t, ses))
	if code, answer := f.postSNS(signSNS(t, n, f.sns.key, "2")); code != http.StatusOK || !strings.Contains(answer, "recorded hard bounce") {
		t.Fatalf("SES bounce, signature version 2: %d %q\n%s", code, answer, f.log)
	}
	if got := f.state(richard); got.Status != store.OutboxBounced || got.Customer != store.StatusFailed {
		t.Errorf("after the second bounce: %+v", got)
	}
	if !strings.Contains(f.log.String(), "matched_by=provider-id") {
		t.Errorf("the second bounce was not found by SES's id:\n%s", f.log)
	}

	// A transient bounce keeps the link.
	n = f.sesNotification(mary, "mary@example.com", "", "Transient")
	if code, answer := f.postSNS(signSNS(t, n, f.sns.key, "1")); code != http.StatusOK || !strings.Contains(answer, "recorded soft bounce") {
		t.Fatalf("SES transient bounce: %d %q", code, answer)
	}
	wantMary := state{Status: store.OutboxSent, Reason: "smtp; 550 5.1.1 <mary@example.com>... User", Customer: store.StatusInvited, LinkLive: true, Audits: 1}
	if got := f.state(mary); got != wantMary {
		t.Errorf("after a transient bounce: %+v\nwant %+v", got, wantMary)
	}

	// The signing certificate was fetched once, from the URL the messages
	// named, and kept.
	if fetched, _ := f.sns.counts(); len(fetched) != 1 || fetched[0] != "sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem" {
		t.Errorf("certificate requests: %v, want the documented URL once", fetched)
	}
}

// Calls that are not what SNS signed for a configured topic are refused and
// change nothing.
func TestSNSRefusesForgeries(t *testing.T) {
	f := newFixture(t)
	s := f.invite("jane@example.com", "Ok "+sesID)
	good := func() map[string]any { return f.sesNotification(s, "jane@example.com", sesID, "Permanent") }
	strangerKey, _ := newCert(t, nil, nil, "stranger", nil)

	for _, c := range []struct {
		name string
		body func() []byte
		code int
	}{
		{"signed with another key", func() []byte { return signSNS(t, good(), strangerKey, "1") }, http.StatusForbidden},
		{"changed after signing", func() []byte {
			m := good()
			signSNS(t, m, f.sns.key, "1")
			m["Timestamp"] = "2030-01-01T00:00:00.000Z"
			return mustJSON(t, m)
		}, http.StatusForbidden},
		{"a version-1 signature claimed as version 2", func() []byte {
			m := good()
			signSNS(t, m, f.sns.key, "1")
			m["SignatureVersion"] = "2"
			return mustJSON(t, m)
		}, http.StatusForbidden},
		{"an unknown signature version", func() []byte { return signSNS(t, good(), f.sns.key, "3") }, http.StatusForbidden},
		{"the certificate on another host", func() []byte {
			m := good()
			m["SigningCertURL"] = "https://certs.example.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
			return signSNS(t, m, f.sns.key, "1")
		}, http.StatusForbidden},
		{"the certificate on a look-alike host", func() []byte {
			m := good()
			m["SigningCertURL"] = "https://sns.us-west-2.amazonaws.com.example.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
			return signSNS(t, m, f.sns.key, "1")
		}, http.StatusForbidden},
		{"the certificate over plain http", func() []byte {
			m := good()
			m["SigningCertURL"] = strings.Replace(certURL, "https:", "http:", 1)
			return signSNS(t, m, f.sns.key, "1")
		}, http.StatusForbidden},
		{"a topic not configured", func() []byte {
			m := good()
			m["TopicArn"] = "arn:aws:sns:us-west-2:123456789012:SomeoneElsesTopic"
			return signSNS(t, m, f.sns.key, "1")
		}, http.StatusForbidden},
		{"no signature", func() []byte { m := good(); delete(m, "Signature"); return mustJSON(t, m) }, http.StatusForbidden},
		{"not JSON", func() []byte { return []byte("Type=Notification") }, http.StatusBadRequest},
	} {
		code, answer := f.postSNS(c.body())
		if code != c.code {
			t.Errorf("%s: %d %q, want %d", c.name, code, answer, c.code)
		}
	}
	if got := f.state(s); got != untouched {
		t.Errorf("after forged calls: %+v, want it untouched", got)
	}
	// Nothing was fetched from anywhere but the documented certificate URL
	// (the client reaches the stand-in whatever the host, so a fetch from
	// another host would show here).
	fetched, confirms := f.sns.counts()
	for _, p := range fetched {
		if p != "sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem" {
			t.Errorf("fetched %s", p)
		}
	}
	if len(confirms) != 0 {
		t.Errorf("confirmed %v", confirms)
	}
	if n := strings.Count(f.log.String(), `msg="bounce report refused"`); n != 10 {
		t.Errorf("%d refusals logged, want 10:\n%s", n, f.log)
	}

	// Without a configured topic, SNS calls are refused outright.
	g := newFixtureWith(t, fixtureOpts{secret: secret})
	if code, _ := g.postSNS(signSNS(t, good(), g.sns.key, "1")); code != http.StatusForbidden {
		t.Errorf("no topic configured: %d, want 403", code)
	}
}

func TestSNSSubscriptionConfirmation(t *testing.T) {
	f := newFixture(t)
	sub := func(topicArn, subscribeURL string) []byte {
		m := sample(t, "sns_subscription_confirmation.json")
		if topicArn != "" {
			m["TopicArn"] = topicArn
			m["SubscribeURL"] = strings.ReplaceAll(m["SubscribeURL"].(string), topic, topicArn)
		}
		if subscribeURL != "" {
			m["SubscribeURL"] = subscribeURL
		}
		return signSNS(t, m, f.sns.key, "1")
	}
	if code, answer := f.post(bounce.SESPath, sub("", "")); code != http.StatusOK || !strings.Contains(answer, "confirmed") {
		t.Fatalf("confirmation for the configured topic: %d %q\n%s", code, answer, f.log)
	}
	_, confirms := f.sns.counts()
	if len(confirms) != 1 || confirms[0].Get("TopicArn") != topic || !strings.HasPrefix(confirms[0].Get("Token"), "2336412f37fb687f5d51e6e241d09c805a5a57b3") {
		t.Fatalf("confirmations seen by SNS: %v; want one for %s with the message's token", confirms, topic)
	}

	other := "arn:aws:sns:us-west-2:123456789012:SomeoneElsesTopic"
	if code, _ := f.post(bounce.SESPath, sub(other, "")); code != http.StatusForbidden {
		t.Errorf("confirmation for another topic: %d, want 403", code)
	}
	if code, _ := f.post(bounce.SESPath, sub("", "https://confirm.example.com/?Action=ConfirmSubscription&Token=x")); code != http.StatusForbidden {
		t.Errorf("confirmation URL on another host: %d, want 403", code)
	}
	if _, confirms := f.sns.counts(); len(confirms) != 1 {
		t.Errorf("%d confirmations, want still 1: %v", len(confirms), confirms)
	}
}

// SES may report several recipients in one notification, and a provider's
// account may send for others too: each recipient is matched on its own,
// and a report about none of our messages is answered 200 (a refusal would
// only make the provider retry it) and logged.
func TestReportsOfOtherMessages(t *testing.T) {
	f := newFixture(t)
	jane := f.invite("jane@example.com", "Ok "+sesID)
	richard := f.invite("richard@example.com", "Ok "+sesID2)

	// SES's documented bounce without a DSN: two recipients, no
	// diagnostic code; mail.messageId is the id of Jane's message.
	n := f.sesNotification(jane, "jane@example.com", sesID, "Permanent")
	var ses map[string]any
	json.Unmarshal([]byte(n["Message"].(string)), &ses)
	ses["bounce"].(map[string]any)["bouncedRecipients"] = []any{
		map[string]any{"emailAddress": "richard@example.com"},
		map[string]any{"emailAddress": "jane@example.com"},
	}
	n["Message"] = string(mustJSON(t, ses))
	code, answer := f.postSNS(signSNS(t, n, f.sns.key, "1"))
	if code != http.StatusOK || strings.TrimSpace(answer) != "recorded hard bounce of message "+itoa(jane.msg.ID) {
		t.Fatalf("two recipients: %d %q", code, answer)
	}
	if got := f.state(jane); got.Status != store.OutboxBounced || got.Reason != "Permanent bounce (General), no reply from the receiving server" {
		t.Errorf("Jane's message: %+v", got)
	}
	// Richard's message was not the one SES named.
	if got := f.state(richard); got != untouched {
		t.Errorf("Richard's message, named with Jane's ids: %+v", got)
	}
	if !strings.Contains(f.log.String(), "went to another address") {
		t.Errorf("the mismatch is not logged:\n%s", f.log)
	}

	// Postmark's sample as documented names nobody we wrote to.
	code, answer = f.postPostmark(mustJSON(t, sample(t, "postmark_bounce.json")), "postmark", secret)
	if code != http.StatusOK || !strings.Contains(answer, "no message of ours") {
		t.Errorf("a bounce of someone else's message: %d %q", code, answer)
	}
	if !strings.Contains(f.log.String(), `msg="bounce report for no message of ours"`) {
		t.Errorf("not logged:\n%s", f.log)
	}
	if got := f.state(richard); got != untouched {
		t.Errorf("after a stranger's bounce: %+v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
