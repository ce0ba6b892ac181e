package mailer

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mailer -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s\n(run with -update if the change is intended)", path, got)
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

const link = "http://localhost:8080/claim/q5T1bC3uPr4n2kW8dZ0yXaHfLmNvJ6sE9gRtYiUoKpA"

func TestInviteGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		data InviteData
		subj string
	}{
		{"invite", InviteData{OrgName: "Harbor Yoga", CustomerName: "Jane", Link: link, WalkthroughURL: "https://videos.example/harbor-tour",
			ReplyTo: "desk@harbor.example", Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Location: mustLoad(t, "Europe/London"),
			Code: "K7F2-9QXM", CodeURL: "http://localhost:8080/claim", SignInURL: "http://localhost:8080/login?org=harbor-yoga"},
			"Claim your Harbor Yoga account"},
		{"invite_branded", InviteData{OrgName: "Harbor Yoga", CustomerName: "Jane", Link: link,
			Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Location: mustLoad(t, "Europe/London"),
			SignInURL: "https://desk.harbor.example/login?org=harbor-yoga",
			Brand:     Brand{Accent: "#0b6b3a", LogoURL: "https://desk.harbor.example/brand/harbor-yoga/logo-0123456789abcdef.png", LogoWidth: 480, LogoHeight: 96}},
			"Claim your Harbor Yoga account"},
		{"invite_minimal", InviteData{OrgName: "Northside Climbing", Link: link,
			Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Location: mustLoad(t, "America/New_York")},
			"Claim your Northside Climbing account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subj, text, html, err := ComposeInvite(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if subj != tc.subj {
				t.Errorf("subject %q, want %q", subj, tc.subj)
			}
			golden(t, tc.name+".txt", text)
			golden(t, tc.name+".html", html)
			for _, part := range []string{text, html} {
				if !strings.Contains(part, link) {
					t.Error("a part lacks the raw claim link")
				}
			}
		})
	}
}

func TestResetGolden(t *testing.T) {
	subj, text, html, err := ComposeReset(ResetData{OrgName: "Harbor Yoga", CustomerName: "Jane",
		Link:    "http://localhost:8080/reset/q5T1bC3uPr4n2kW8dZ0yXaHfLmNvJ6sE9gRtYiUoKpA",
		Expires: time.Date(2026, 11, 23, 15, 5, 0, 0, time.UTC), Location: mustLoad(t, "Europe/London")})
	if err != nil {
		t.Fatal(err)
	}
	if subj != "Reset your Harbor Yoga password" {
		t.Errorf("subject %q", subj)
	}
	golden(t, "reset.txt", text)
	golden(t, "reset.html", html)
}

// TestInviteContent checks what the issue asks of the email, independent of
// the golden files' exact wording.
func TestInviteContent(t *testing.T) {
	d := InviteData{OrgName: "Harbor Yoga", CustomerName: "Jane", Link: link, WalkthroughURL: "https://videos.example/tour",
		Expires: time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC), Location: mustLoad(t, "Europe/Berlin")}
	_, text, html, err := ComposeInvite(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{text, html} {
		for _, want := range []string{
			"Wed 1 Jul 2026 at 11:30 CEST", // the exact expiry, in the organization's zone
			"bookings", "payments", "subscriptions", "profile",
			"https://videos.example/tour",
			"Didn't expect this email?",
		} {
			if !strings.Contains(part, want) {
				t.Errorf("part lacks %q", want)
			}
		}
	}
	if strings.Contains(text, "<") {
		t.Error("the text part contains markup")
	}
	// Self-contained: no images, no stylesheets or scripts from anywhere.
	if regexp.MustCompile(`(?i)<img|<link|<script|src=|url\(`).MatchString(html) {
		t.Error("the HTML part loads something")
	}
	if !strings.Contains(html, `style="`) {
		t.Error("the HTML part has no inline styles")
	}
	_, noCodeText, noVideo, _ := ComposeInvite(InviteData{OrgName: "Harbor Yoga", Link: link, Expires: d.Expires})
	if strings.Contains(noVideo, "walk-through") {
		t.Error("walk-through paragraph without a walk-through URL")
	}
	if strings.Contains(noCodeText, "code") || strings.Contains(noVideo, "code") {
		t.Error("a code paragraph without a code")
	}

	// The one-time code: both parts show it and where to type it.
	d.Code, d.CodeURL = "K7F2-9QXM", "https://desk.example/claim"
	_, text, html, err = ComposeInvite(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{text, html} {
		for _, want := range []string{"K7F2-9QXM", "https://desk.example/claim", "one-time code", "expires with the link"} {
			if !strings.Contains(part, want) {
				t.Errorf("part with a code lacks %q", want)
			}
		}
	}
}

func TestComposeEscapes(t *testing.T) {
	subj, text, html, err := ComposeInvite(InviteData{
		OrgName:        "Ben & Jerry's <b>Studio</b>\r\nBcc: x@evil.example",
		CustomerName:   `<script>alert(1)</script>`,
		Link:           link,
		WalkthroughURL: "javascript:alert(1)",
		Expires:        time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subj, "\r\n") {
		t.Errorf("subject spans lines: %q", subj)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>Studio") || strings.Contains(html, `href="javascript:`) {
		t.Errorf("HTML part not escaped:\n%s", html)
	}
	if !strings.Contains(text, "Ben & Jerry's <b>Studio</b>") {
		t.Error("text part should carry names as typed")
	}
	if !strings.Contains(html, "Mon 30 Nov 2026 at 14:05 UTC") {
		t.Error("nil location should mean UTC")
	}
}

func TestComposeNeedsTheEssentials(t *testing.T) {
	ok := InviteData{OrgName: "Harbor Yoga", Link: link, Expires: time.Now()}
	for _, d := range []InviteData{{Link: link, Expires: ok.Expires}, {OrgName: "x", Expires: ok.Expires}, {OrgName: "x", Link: link}} {
		if _, _, _, err := ComposeInvite(d); err == nil {
			t.Errorf("ComposeInvite(%+v) succeeded", d)
		}
	}
	if _, _, _, err := ComposeReset(ResetData{OrgName: "x", Link: link}); err == nil {
		t.Error("ComposeReset without an expiry succeeded")
	}
}

func TestResetByStaffGolden(t *testing.T) {
	_, text, html, err := ComposeReset(ResetData{OrgName: "Harbor Yoga", CustomerName: "Jane", ByStaff: true,
		Link:    "http://localhost:8080/reset/q5T1bC3uPr4n2kW8dZ0yXaHfLmNvJ6sE9gRtYiUoKpA",
		Expires: time.Date(2026, 11, 23, 15, 5, 0, 0, time.UTC), Location: mustLoad(t, "Europe/London")})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "reset_staff.txt", text)
	golden(t, "reset_staff.html", html)
	for _, part := range []string{text, html} {
		if strings.Contains(part, "Someone asked") || !strings.Contains(part, "Harbor Yoga sent you this email") {
			t.Error("a reset sent from the front desk should say who sent it")
		}
	}
}

func emailChange(t *testing.T, replyTo string) EmailChangeData {
	return EmailChangeData{OrgName: "Harbor Yoga", CustomerName: "Jane", NewEmail: "jane.doe@newmail.example",
		ChangedAt: time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC), SignInURL: "http://localhost:8080/login?org=harbor-yoga",
		ReplyTo: replyTo, Location: mustLoad(t, "Europe/London")}
}

func TestEmailChangeGolden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		compose func(EmailChangeData) (string, string, string, error)
		replyTo string
		subj    string
	}{
		{"email_change_old", ComposeEmailChangeOld, "desk@harbor.example", "Your Harbor Yoga sign-in address was changed"},
		{"email_change_old_minimal", ComposeEmailChangeOld, "", "Your Harbor Yoga sign-in address was changed"},
		{"email_change_new", ComposeEmailChangeNew, "desk@harbor.example", "This is now your Harbor Yoga sign-in address"},
		{"email_change_new_minimal", ComposeEmailChangeNew, "", "This is now your Harbor Yoga sign-in address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subj, text, html, err := tc.compose(emailChange(t, tc.replyTo))
			if err != nil {
				t.Fatal(err)
			}
			if subj != tc.subj {
				t.Errorf("subject %q, want %q", subj, tc.subj)
			}
			golden(t, tc.name+".txt", text)
			golden(t, tc.name+".html", html)
		})
	}
}

// TestEmailChangeContent checks what the issue asks of the two notices,
// independent of the golden files' wording.
func TestEmailChangeContent(t *testing.T) {
	d := emailChange(t, "desk@harbor.example")
	_, oldText, oldHTML, err := ComposeEmailChangeOld(d)
	if err != nil {
		t.Fatal(err)
	}
	_, newText, newHTML, err := ComposeEmailChangeNew(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{oldText, oldHTML} {
		// The old mailbox may be the one that is no longer the customer's:
		// it learns the new address only masked, and gets nothing to click.
		for _, want := range []string{"j***@newmail.example", "Mon 23 Nov 2026 at 14:05 GMT", "did not ask for this", "contact Harbor Yoga", "desk@harbor.example"} {
			if !strings.Contains(part, want) {
				t.Errorf("old address's notice lacks %q", want)
			}
		}
		if strings.Contains(part, d.NewEmail) || strings.Contains(part, "http") {
			t.Errorf("old address's notice shows the new address or a link:\n%s", part)
		}
	}
	for _, part := range []string{newText, newHTML} {
		for _, want := range []string{"http://localhost:8080/login?org=harbor-yoga", "Mon 23 Nov 2026 at 14:05 GMT", "Don't recognise this?", "Harbor Yoga"} {
			if !strings.Contains(part, want) {
				t.Errorf("new address's notice lacks %q", want)
			}
		}
		if strings.Contains(part, "/claim/") || strings.Contains(part, "/reset/") {
			t.Error("new address's notice carries a token link")
		}
	}
	if strings.Contains(oldText+newText, "<") {
		t.Error("a text part contains markup")
	}
	if _, _, _, err := ComposeEmailChangeOld(EmailChangeData{OrgName: "x", NewEmail: "a@b.example", SignInURL: "u"}); err == nil {
		t.Error("a notice without the time of the change was composed")
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jane.doe@example.com": "j***@example.com",
		"n@example.com":        "n***@example.com",
		"élise@exemple.fr":     "é***@exemple.fr",
		"\"a@b\"@example.com":  "\"***@example.com",
		"@example.com":         "***@example.com",
		"nodomain":             "n***",
	} {
		if got := maskEmail(in); got != want {
			t.Errorf("maskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// The organization's accent colours the button and the links, its logo
// heads the message at a size email apps keep; an accent that fails the
// contrast check, or a logo not at an https address, is left out.
func TestBrandInEmails(t *testing.T) {
	base := InviteData{OrgName: "Harbor Yoga", Link: link, Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)}
	d := base
	d.Brand = Brand{Accent: "#0B6B3A", LogoURL: "https://desk.example/brand/harbor-yoga/logo-ab.png", LogoWidth: 480, LogoHeight: 96}
	_, text, html, err := ComposeInvite(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`background-color:#0b6b3a;`, `style="color:#0b6b3a;word-break:break-all;"`,
		`<img src="https://desk.example/brand/harbor-yoga/logo-ab.png" width="240" height="48" alt="Harbor Yoga"`} {
		if !strings.Contains(html, want) {
			t.Errorf("branded HTML lacks %q", want)
		}
	}
	if strings.Contains(html, defaultAccent) {
		t.Error("the default blue is still in the branded HTML")
	}
	if strings.Contains(text, "logo") {
		t.Error("the text part mentions the logo")
	}
	_, _, sent, _ := ComposeReset(ResetData{OrgName: "Harbor Yoga", Link: link, Expires: base.Expires, Brand: d.Brand})
	_, _, notice, _ := ComposeEmailChangeNew(EmailChangeData{OrgName: "Harbor Yoga", NewEmail: "j@example.com", ChangedAt: base.Expires, SignInURL: "https://desk.example/login", Brand: d.Brand})
	for name, h := range map[string]string{"reset": sent, "email change": notice} {
		if !strings.Contains(h, "#0b6b3a") || !strings.Contains(h, `<img src="https://desk.example/`) {
			t.Errorf("the %s email is not branded", name)
		}
	}

	d.Brand = Brand{Accent: "#ffee00", LogoURL: "http://desk.example/brand/harbor-yoga/logo-ab.png", LogoWidth: 10, LogoHeight: 10}
	_, _, html, err = ComposeInvite(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "#ffee00") || !strings.Contains(html, defaultAccent) {
		t.Error("an accent failing the contrast check went out")
	}
	if strings.Contains(html, "<img") {
		t.Error("a logo at an http address went out")
	}
}

// The invite says where to sign in once the account is claimed.
func TestInviteGivesSignInAddress(t *testing.T) {
	d := InviteData{OrgName: "Harbor Yoga", Link: link, Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), SignInURL: "https://desk.example/login?org=harbor-yoga"}
	for name, compose := range map[string]func(InviteData) (string, string, string, error){"invite": ComposeInvite, "reminder": ComposeReminder} {
		_, text, html, err := compose(d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "To sign in later, go to\nhttps://desk.example/login?org=harbor-yoga\n") {
			t.Errorf("%s text lacks the sign-in address:\n%s", name, text)
		}
		if !strings.Contains(html, `<a href="https://desk.example/login?org=harbor-yoga"`) {
			t.Errorf("%s HTML lacks the sign-in address", name)
		}
	}
}
