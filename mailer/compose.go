package mailer

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.New("").ParseFS(templateFS, "templates/*.txt.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap{
		"button": func(link, label string) map[string]string { return map[string]string{"Link": link, "Label": label} },
	}).ParseFS(templateFS, "templates/*.html.tmpl"))
)

// InviteData is what the invite email says.
type InviteData struct {
	OrgName        string
	CustomerName   string // how to greet the customer; "" greets without a name
	Link           string // <base-url>/claim/<token>
	WalkthroughURL string // the organization's walk-through video, "" for none
	ReplyTo        string // where questions go, "" when replies are not read
	Expires        time.Time
	Location       *time.Location // the organization's time zone; nil for UTC
}

// ResetData is what the password reset email says.
type ResetData struct {
	OrgName      string
	CustomerName string
	Link         string // <base-url>/reset/<token>
	Expires      time.Time
	Location     *time.Location
}

// view is what the templates see: the caller's data plus the words computed
// from it, so the templates hold no logic beyond ifs.
type view struct {
	Subject        string
	OrgName        string
	Greeting       string
	Link           string
	WalkthroughURL string
	ReplyTo        string
	Expires        string
}

// FormatExpiry writes an expiry the way the emails do, in the organization's
// zone with its abbreviation, so nobody has to guess which 14:05 it is:
// "Mon 30 Nov 2026 at 14:05 GMT".
func FormatExpiry(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2 Jan 2006 at 15:04 MST")
}

func greeting(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return "Hello,"
	}
	return "Hello " + name + ","
}

// oneLine keeps a value that lands in a subject line to one line; the mailer
// encodes headers anyway, this keeps the subject readable too.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// ComposeInvite renders the invite email: its subject, plain text and HTML.
func ComposeInvite(d InviteData) (subject, text, html string, err error) {
	if d.OrgName == "" || d.Link == "" || d.Expires.IsZero() {
		return "", "", "", fmt.Errorf("mailer: invite needs an organization name, a link and an expiry")
	}
	v := view{
		Subject:        "Claim your " + oneLine(d.OrgName) + " account",
		OrgName:        d.OrgName,
		Greeting:       greeting(d.CustomerName),
		Link:           d.Link,
		WalkthroughURL: d.WalkthroughURL,
		ReplyTo:        d.ReplyTo,
		Expires:        FormatExpiry(d.Expires, d.Location),
	}
	return render("invite", v)
}

// ComposeReset renders the password reset email.
func ComposeReset(d ResetData) (subject, text, html string, err error) {
	if d.OrgName == "" || d.Link == "" || d.Expires.IsZero() {
		return "", "", "", fmt.Errorf("mailer: reset email needs an organization name, a link and an expiry")
	}
	v := view{
		Subject:  "Reset your " + oneLine(d.OrgName) + " password",
		OrgName:  d.OrgName,
		Greeting: greeting(d.CustomerName),
		Link:     d.Link,
		Expires:  FormatExpiry(d.Expires, d.Location),
	}
	return render("reset", v)
}

func render(name string, v view) (subject, text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&tb, name+".txt.tmpl", v); err != nil {
		return "", "", "", fmt.Errorf("mailer: %s text: %w", name, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&hb, name+".html.tmpl", v); err != nil {
		return "", "", "", fmt.Errorf("mailer: %s html: %w", name, err)
	}
	return v.Subject, tb.String(), hb.String(), nil
}
