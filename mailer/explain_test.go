package mailer

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"frontdesk/store"
)

// Staff words for the phrases the tests look for.
const (
	wUnknown  = "the address does not exist — check the address with the customer"
	wFull     = "the mailbox is full — ask the customer"
	wFullTemp = "the mailbox is full; it will be retried"
	wRelay    = "the mail server refused us as a relay — check the SMTP settings"
	wGrey     = "the receiving server is greylisting; it will be retried"
	wSpam     = "the receiving server refused it as spam or under its policy"
	wVerify   = "could not verify that the email is from us (SPF, DKIM or DMARC)"
	wDisabled = "the mailbox is disabled"
	wTooBig   = "too large"
	wSender   = "the mail server refused our sender address"
	wSignIn   = "the mail server refused our SMTP sign-in — check the SMTP username and password"
	wEncrypt  = "the mail server wants us to sign in or encrypt first — check the SMTP settings"
	wNoAnswer = "the mail server did not answer in time; it will be retried"
	wBusy     = "the mail server is busy or closing the connection; it will be retried"
	wDomain   = "the email's domain takes no mail"
)

// Real replies, as the in-process SMTP server gives them to RCPT, through
// the SMTP transport and the worker: what the outbox stores of each is what
// Explain reads. The texts are the providers' own (Gmail, Microsoft 365,
// Yahoo, Postfix, Postgrey, Amazon SES, Spamhaus-listed hosts).
func TestExplainServerRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reply  *smtp.SMTPError
		want   string
		status string // what the worker made of it
	}{
		{"gmail no such user", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces."}, wUnknown, store.OutboxFailed},
		{"postfix user unknown", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "<jane@example.com>: Recipient address rejected: User unknown in virtual mailbox table"}, wUnknown, store.OutboxFailed},
		{"microsoft recipient not found", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 10},
			Message: "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}, wUnknown, store.OutboxFailed},
		{"yahoo no account", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.NoEnhancedCode,
			Message: "delivery error: dd This user doesn't have a yahoo.com account (jane@yahoo.com) [0] - mta4012.mail.gq1.yahoo.com"}, wUnknown, store.OutboxFailed},
		{"mailbox unavailable", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 0},
			Message: "Requested action not taken: mailbox unavailable"}, wUnknown, store.OutboxFailed},
		{"gmail over quota", &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2},
			Message: "The email account that you tried to reach is over quota."}, wFull, store.OutboxFailed},
		{"gmail out of storage, for now", &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2},
			Message: "The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp"}, wFullTemp, store.OutboxQueued},
		{"gmail disabled", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 2, 1},
			Message: "The email account that you tried to reach is disabled."}, wDisabled, store.OutboxFailed},
		{"postfix relay", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "<jane@example.com>: Relay access denied"}, wRelay, store.OutboxFailed},
		{"relaying denied", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "Relaying denied"}, wRelay, store.OutboxFailed},
		{"microsoft relay", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 64},
			Message: "TenantAttribution; Relay Access Denied"}, wRelay, store.OutboxFailed},
		{"greylisted 451 4.7.1", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
			Message: "Please try again later"}, wGrey, store.OutboxQueued},
		{"postgrey", &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0},
			Message: "<jane@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"}, wGrey, store.OutboxQueued},
		{"gmail unauthenticated", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 26},
			Message: "This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked."}, wVerify, store.OutboxFailed},
		{"gmail spf", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 23},
			Message: "The message was rejected because of Sender Policy Framework violation"}, wVerify, store.OutboxFailed},
		{"gmail spam", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "[203.0.113.7] Our system has detected that this message is likely unsolicited mail."}, wSpam, store.OutboxFailed},
		{"spamhaus listed", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org"}, wSpam, store.OutboxFailed},
		{"message rejected", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "Message rejected"}, wSpam, store.OutboxFailed},
		{"too large", &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
			Message: "Message size exceeds fixed maximum message size"}, wTooBig, store.OutboxFailed},
		{"ses unverified sender", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.NoEnhancedCode,
			Message: "Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: frontdesk@studio.example"}, wSender, store.OutboxFailed},
		{"rate limited", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
			Message: "Try again later, closing connection."}, wBusy, store.OutboxQueued},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, serverConfig{RcptErrors: []*smtp.SMTPError{tc.reply}})
			f := newFixture(t)
			m := f.queue(t, 1)[0]
			if _, err := f.worker(srv.transport(t)).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := f.msg(t, m.ID)
			if got.Status != tc.status {
				t.Fatalf("stored %s (%q), want %s", got.Status, got.LastError, tc.status)
			}
			if words := Explain(got.LastError); !strings.Contains(words, tc.want) {
				t.Errorf("the server said %q, stored as %q;\nExplain says %q, want %q", tc.reply.Message, got.LastError, words, tc.want)
			}
		})
	}
}

// Our own mail server's refusals of us, and a server that never answers,
// as the worker records them.
func TestExplainOurMailServer(t *testing.T) {
	t.Run("starttls required", func(t *testing.T) {
		srv := startServer(t, serverConfig{StartTLS: true})
		cfg := srv.config()
		cfg.TLS = TLSNone
		tr, err := NewSMTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t)
		m := f.queue(t, 1)[0]
		f.worker(tr).RunOnce(context.Background())
		if got := f.msg(t, m.ID).LastError; !strings.Contains(Explain(got), wEncrypt) {
			t.Errorf("stored %q, explained %q", got, Explain(got))
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := startServer(t, serverConfig{StartTLS: true, Auth: true})
		cfg := srv.config()
		cfg.Password = "wrong"
		tr, err := NewSMTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t)
		m := f.queue(t, 1)[0]
		f.worker(tr).RunOnce(context.Background())
		if got := f.msg(t, m.ID).LastError; !strings.Contains(Explain(got), wSignIn) {
			t.Errorf("stored %q, explained %q", got, Explain(got))
		}
	})
	t.Run("no answer", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held := make(chan net.Conn, 4)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				held <- c // accepted, never answered
			}
		}()
		t.Cleanup(func() {
			l.Close()
			close(held)
			for c := range held {
				c.Close()
			}
		})
		tr, err := NewSMTP(Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "frontdesk@studio.example", Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t)
		m := f.queue(t, 1)[0]
		f.worker(tr).RunOnce(context.Background())
		if got := f.msg(t, m.ID).LastError; !strings.Contains(Explain(got), wNoAnswer) {
			t.Errorf("stored %q, explained %q", got, Explain(got))
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close() // nothing listens there now
		tr, err := NewSMTP(Config{Host: "127.0.0.1", Port: port, From: "frontdesk@studio.example", Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t)
		m := f.queue(t, 1)[0]
		f.worker(tr).RunOnce(context.Background())
		if got := f.msg(t, m.ID).LastError; !strings.Contains(Explain(got), "the mail server refused the connection; it will be retried — check the SMTP host and port") {
			t.Errorf("stored %q, explained %q", got, Explain(got))
		}
	})
}

// The documented codes, and the outbox's other records, as text.
func TestExplainTable(t *testing.T) {
	for reply, want := range map[string]string{
		"": "",
		"250 2.0.0 OK  1732370700 d9443c01a7336-2120 - gsmtp":                                                                           "the mail server accepted it",
		"250 2.0.0 Ok: queued as 4F2A1C0B9":                                                                                             "the mail server accepted it",
		"sending SMTP RCPT TO command: 550 5.1.1 <jane@exmaple.com>: Recipient address rejected: User unknown":                          wUnknown,
		"smtp; 550 5.1.1 <jane@example.com>... User unknown":                                                                            wUnknown, // a provider's bounce diagnostic
		"sending SMTP RCPT TO command: 452 4.2.2 The recipient's inbox is out of storage space":                                         wFullTemp,
		"552 Requested mail action aborted: exceeded storage allocation":                                                                "the mailbox is full",
		"554 5.7.1 <jane@example.com>: Relay access denied":                                                                             wRelay,
		"451 4.7.1 Service unavailable - try again later":                                                                               wGrey,
		"550 5.1.2 Host unknown (Name server: example.invalid: host not found)":                                                         wDomain,
		"550 5.1.10 Recipient address has null MX":                                                                                      wDomain,
		"550 5.7.350 Remote server returned message detected as spam":                                                                   wSpam,
		"421 4.4.2 Connection timed out":                                                                                                wBusy,
		"451 4.3.0 Mailbox temporarily unavailable":                                                                                     "the receiving server put it off for now; it will be retried",
		"554 5.0.0 Service unavailable":                                                                                                 "the receiving server refused it — check the address with the customer",
		"gave up after 9 attempts over 24h: 451 4.7.1 Greylisted, try again later":                                                      "the receiving server is greylisting (gave up after 9 attempts over 24h)",
		"the mail server 127.0.0.1:2525 did not answer within 30s; it accepted the connection but sent no greeting":                     wNoAnswer,
		"connecting to the mail server mail.example:587: dial tcp: lookup mail.example: no such host":                                   "the mail server's name was not found; it will be retried — check the SMTP host",
		"connecting to the mail server 127.0.0.1:465: tls: failed to verify certificate: x509: certificate signed by unknown authority": "the mail server's encryption was not accepted",
		"not sent: a newer invite was sent":                                                                                             "not sent: a newer invite was sent",
		"delivery interrupted before it was sent":                                                                                       "the attempt was interrupted before the mail server took it; it will be retried",
		"something nobody has seen before":                                                                                              "the mail server's reply is not one we know — see the reply itself",
	} {
		if got := Explain(reply); !strings.Contains(got, want) || (want == "" && got != "") {
			t.Errorf("Explain(%q)\n got %q\nwant %q", reply, got, want)
		}
	}
	if got := ExplainWith("554 5.7.1 Relay access denied", " - "); got != "the mail server refused us as a relay - check the SMTP settings" {
		t.Errorf("ExplainWith an ASCII dash: %q", got)
	}
}
