package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"frontdesk/claim"
	"frontdesk/claim/web"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/tui"
)

// TestSurfacesSayTheSame: one payment and one expiry, read on each surface
// that shows them — the staff TUI's profile, the customer's account page and
// the invite email — are written alike, money in the currency's own
// decimals (yen have none).
func TestSurfacesSayTheSame(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "frontdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }

	org := &store.Org{Name: "Harbor Yoga", TimeZone: "Europe/London", Notifications: true}
	owner := &store.Staff{Email: "owner@harbor.example", Name: "Maya Harbor", Role: store.RoleOwner}
	jane := &store.Customer{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"}
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		owner.OrgID, jane.OrgID = org.ID, org.ID
		if err := tx.CreateStaff(ctx, owner); err != nil {
			return err
		}
		if err := tx.CreateCustomer(ctx, jane); err != nil {
			return err
		}
		for _, p := range []store.Payment{
			{Amount: 1250, Currency: "GBP", Description: "Drop-in class", PaidAt: now.Add(-48 * time.Hour), Status: "paid"},
			{Amount: 1200, Currency: "JPY", Description: "Tea ceremony", PaidAt: now.Add(-72 * time.Hour), Status: "paid"},
		} {
			if err := tx.AddPayment(ctx, jane.ID, &p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The invite email, as the worker sends it (the file transport writes
	// what SMTP would carry).
	mailDir := t.TempDir()
	svc := &claim.Service{DB: db, BaseURL: "https://desk.example",
		Mail: &mailer.Worker{DB: db, Transport: mailer.NewFileTransport(mailDir, quiet()), Logger: quiet()}}
	outs, err := svc.Send(ctx, owner, []int64{jane.ID}, claim.SendOptions{})
	if err != nil || len(outs) != 1 || outs[0].Result != claim.Delivered {
		t.Fatalf("invite: %+v, %v", outs, err)
	}
	files, _ := filepath.Glob(filepath.Join(mailDir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d emails written", len(files))
	}
	email := decodedEML(t, files[0])

	// The TUI: the roster, then Jane's profile.
	// A terminal with colour and Unicode, as most are; the words are read
	// without the colours.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	m := tui.New(tui.Common{Ctx: ctx, Styles: tui.NewStyles(r), Org: org, Staff: owner, Width: 120, Height: 60},
		tui.Deps{Roster: db, Invites: svc, Now: db.Now})
	drive(t, m, m.Init())
	drive(t, m, func() tea.Msg { return tea.KeyMsg{Type: tea.KeyEnter} })
	profile := ansi.Strip(m.View())
	if !strings.Contains(profile, "Member since") {
		t.Fatalf("the profile did not open:\n%s", profile)
	}

	// The account page, once Jane has claimed and signed in.
	token := regexp.MustCompile(`/claim/([A-Za-z0-9_-]{43})`).FindStringSubmatch(email)
	if token == nil {
		t.Fatalf("no link in the email:\n%s", email)
	}
	srv := httptest.NewServer(web.New(web.Options{Service: svc}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	const pw = "harbour lights at dusk"
	get(t, client, srv.URL+"/claim/"+token[1])
	post(t, client, srv.URL, "/claim", url.Values{"password": {pw}, "confirm": {pw}})
	post(t, client, srv.URL, "/login", url.Values{"email": {jane.Email}, "password": {pw}, "org": {org.Slug}})
	account := get(t, client, srv.URL+"/account")
	if !strings.Contains(account, "Tea ceremony") {
		t.Fatalf("the account page shows no payments:\n%s", account)
	}

	// Each value as each surface writes it.
	expiry := regexp.MustCompile(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ \w{3} \d{4} at \d\d:\d\d [A-Z]{3}`)
	var b strings.Builder
	for _, v := range []struct{ what, tui, web, email string }{
		{"GBP payment", find(t, profile, `£12\.50`), find(t, account, `£12\.50`), ""},
		{"JPY payment", find(t, profile, `¥1,200`), find(t, account, `¥1,200`), ""},
		{"invite expiry", expiry.FindString(profile), "", expiry.FindString(email)},
	} {
		fmt.Fprintf(&b, "%-14s tui %-30q web %-10q email %q\n", v.what, v.tui, v.web, v.email)
		if (v.web != "" && v.web != v.tui) || (v.email != "" && v.email != v.tui) {
			t.Errorf("%s written differently: TUI %q, web %q, email %q", v.what, v.tui, v.web, v.email)
		}
	}
	golden.RequireEqual(t, []byte(b.String()))
}

func find(t *testing.T, s, pattern string) string {
	t.Helper()
	got := regexp.MustCompile(pattern).FindString(s)
	if got == "" {
		t.Errorf("%s not found in:\n%s", pattern, s)
	}
	return got
}

// drive runs cmd and every command its messages lead to, feeding each
// message to m, until nothing is left (ticks and timers are not followed).
func drive(t *testing.T, m tea.Model, cmd tea.Cmd) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 1000 {
			t.Fatal("the model never settled")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			if _, tick := msg.(interface{ Tag() int }); tick {
				continue
			}
			var next tea.Cmd
			_, next = m.Update(msg)
			queue = append(queue, next)
		}
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func post(t *testing.T, c *http.Client, base, path string, form url.Values) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("POST %s: %s", path, resp.Status)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// decodedEML is a written email's parts, decoded from their transfer
// encodings, one after the other.
func decodedEML(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return decodedMessage(t, f)
}

// decodedMessage is an email's parts (as an SMTP server receives it, or a
// .eml file holds it), decoded from their transfer encodings, one after
// the other.
func decodedMessage(t *testing.T, r io.Reader) string {
	t.Helper()
	msg, err := mail.ReadMessage(r)
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.String()
}
