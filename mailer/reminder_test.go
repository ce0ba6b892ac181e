package mailer

import (
	"strings"
	"testing"
	"time"
)

// The reminder is the invitation again, saying first what it is, with the
// fresh link and the invite's own expiry.
func TestReminderGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		data InviteData
	}{
		{"reminder", InviteData{OrgName: "Harbor Yoga", CustomerName: "Jane", Link: link, WalkthroughURL: "https://videos.example/harbor-tour",
			ReplyTo: "desk@harbor.example", Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Location: mustLoad(t, "Europe/London"),
			Code: "K7F2-9QXM", CodeURL: "http://localhost:8080/claim"}},
		{"reminder_minimal", InviteData{OrgName: "Northside Climbing", Link: link,
			Expires: time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), Location: mustLoad(t, "America/New_York")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subj, text, html, err := ComposeReminder(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if want := "Reminder: claim your " + tc.data.OrgName + " account"; subj != want {
				t.Errorf("subject %q, want %q", subj, want)
			}
			golden(t, tc.name+".txt", text)
			golden(t, tc.name+".html", html)
		})
	}
}

func TestReminderContent(t *testing.T) {
	d := InviteData{OrgName: "Harbor Yoga", CustomerName: "Jane", Link: link,
		Expires: time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC), Location: mustLoad(t, "Europe/Berlin")}
	_, text, html, err := ComposeReminder(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{text, html} {
		for _, want := range []string{
			"A reminder: your invite from Harbor Yoga expires on",
			"Wed 1 Jul 2026 at 11:30 CEST", // the invite's expiry, in the organization's zone
			link,
			"the one in our earlier email no longer works",
			"Didn't expect this email?",
		} {
			if !strings.Contains(part, want) {
				t.Errorf("part lacks %q:\n%s", want, part)
			}
		}
	}
	if strings.Contains(text, "<") {
		t.Error("the text part contains markup")
	}
	for _, bad := range []InviteData{{Link: link, Expires: d.Expires}, {OrgName: "x", Expires: d.Expires}, {OrgName: "x", Link: link}} {
		if _, _, _, err := ComposeReminder(bad); err == nil {
			t.Errorf("ComposeReminder(%+v) succeeded", bad)
		}
	}
	// Customer text is escaped in the HTML part, as in the invite.
	_, _, h, err := ComposeReminder(InviteData{OrgName: "<b>Studio</b>", CustomerName: "<script>x</script>", Link: link, Expires: d.Expires})
	if err != nil || strings.Contains(h, "<script>") || strings.Contains(h, "<b>Studio") {
		t.Errorf("reminder HTML not escaped (%v):\n%s", err, h)
	}
}
