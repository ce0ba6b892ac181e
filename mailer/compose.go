package mailer

import (
	"bytes"
	"embed"
	"fmt"
	"frontdesk/store/brand"
	"frontdesk/store/format"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var (
	textTemplates = texttemplate.Must(texttemplate.New("").ParseFS(templateFS, "templates/*.txt.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap{
		"button": func(v view, link, label string) map[string]string {
			return map[string]string{"Link": link, "Label": label, "Accent": v.Accent}
		},
	}).ParseFS(templateFS, "templates/*.html.tmpl"))
)

// Brand is the organization's look in the HTML part of its emails.
type Brand struct {
	// Accent colours the button and the links ("#rrggbb", checked for
	// contrast with white when the organization saved it); "" for the
	// default blue.
	Accent string
	// LogoURL is the logo's https address on the customers' site, shown
	// above the heading at LogoWidth×LogoHeight; "" for none. A link
	// rather than an attachment: the message stays small, the outbox
	// keeps one body per message, and an email app that blocks remote
	// images shows the organization's name beside it all the same.
	LogoURL               string
	LogoWidth, LogoHeight int
}

// InviteData is what the invite email says.
type InviteData struct {
	OrgName        string
	CustomerName   string // how to greet the customer; "" greets without a name
	Link           string // <base-url>/claim/<token>
	WalkthroughURL string // the organization's walk-through video, "" for none
	ReplyTo        string // where questions go, "" when replies are not read
	Expires        time.Time
	Location       *time.Location // the organization's time zone; nil for UTC
	// Code is the one-time code the claim page takes instead of the link
	// ("K7F2-9QXM"), CodeURL that page (<base-url>/claim); "" for none.
	Code, CodeURL string
	// SignInURL is where the customer signs in once claimed
	// (<base-url>/login?org=<slug>), kept for later; "" leaves it out.
	SignInURL string
	Brand     Brand
}

// ResetData is what the password reset email says.
type ResetData struct {
	OrgName      string
	CustomerName string
	Link         string // <base-url>/reset/<token>
	Expires      time.Time
	Location     *time.Location
	// ByStaff: the organization's staff sent the link from the front desk;
	// otherwise someone asked for it on the sign-in page.
	ByStaff bool
	Brand   Brand
}

// EmailChangeData is what the two notices of a claimed customer's changed
// sign-in address say: one to the old address, one to the new. Neither
// carries a token; the new one links to the sign-in page.
type EmailChangeData struct {
	OrgName      string
	CustomerName string
	NewEmail     string    // the new sign-in address; the old address's notice shows it masked
	ChangedAt    time.Time // when staff saved the change
	SignInURL    string    // <base-url>/login?org=<slug>
	ReplyTo      string    // where to write, "" when replies are not read
	Location     *time.Location
	Brand        Brand
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
	ByStaff        bool
	NewEmail       string // in the old address's notice: masked
	ChangedAt      string
	SignInURL      string
	Code, CodeURL  string // the invite's one-time code and where it is typed

	Accent                string // the button's and the links' colour, never ""
	LogoURL               string
	LogoWidth, LogoHeight int
}

// defaultAccent is the emails' blue when the organization has no accent.
const defaultAccent = "#1d4ed8"

// branded adds the organization's look to v. An accent that fails the
// contrast check (saved by hand, or by an older frontdesk) is left out
// rather than sent; so is a logo that is not at an https address, which
// email apps would refuse or flag as insecure.
func (v view) branded(b Brand) view {
	v.Accent = defaultAccent
	if a, err := brand.CheckAccent(b.Accent); err == nil && a != "" {
		v.Accent = a
	}
	if strings.HasPrefix(b.LogoURL, "https://") {
		v.LogoURL = b.LogoURL
		v.LogoWidth, v.LogoHeight = brand.EmailSize(b.LogoWidth, b.LogoHeight)
	}
	return v
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
	return render("invite", invitation(d, "Claim your "+oneLine(d.OrgName)+" account"))
}

// ComposeReminder renders the reminder of an invite not yet claimed: the
// same invitation, opening with "a reminder: your invite from ORG expires on
// …", carrying the fresh link (and code) that replaced the earlier email's
// (d.Link), with the invite's own expiry (d.Expires): a reminder does not
// extend it.
func ComposeReminder(d InviteData) (subject, text, html string, err error) {
	if d.OrgName == "" || d.Link == "" || d.Expires.IsZero() {
		return "", "", "", fmt.Errorf("mailer: a reminder needs an organization name, a link and an expiry")
	}
	return render("reminder", invitation(d, "Reminder: claim your "+oneLine(d.OrgName)+" account"))
}

// invitation is what the invite and its reminder show.
func invitation(d InviteData, subject string) view {
	v := view{
		Subject:        subject,
		OrgName:        d.OrgName,
		Greeting:       greeting(d.CustomerName),
		Link:           d.Link,
		WalkthroughURL: d.WalkthroughURL,
		ReplyTo:        d.ReplyTo,
		Expires:        format.Expiry(d.Expires, d.Location),
		SignInURL:      d.SignInURL,
	}
	if d.Code != "" && d.CodeURL != "" {
		v.Code, v.CodeURL = d.Code, d.CodeURL
	}
	return v.branded(d.Brand)
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
		Expires:  format.Expiry(d.Expires, d.Location),
		ByStaff:  d.ByStaff,
	}
	return render("reset", v.branded(d.Brand))
}

// ComposeEmailChangeOld renders the notice to the address a claimed customer
// signed in with until now: that it changed, to what (masked), by whom and
// when, and whom to contact if they did not ask for it. It is the warning
// an account takeover through the front desk cannot avoid sending.
func ComposeEmailChangeOld(d EmailChangeData) (subject, text, html string, err error) {
	v, err := emailChangeView(d)
	if err != nil {
		return "", "", "", err
	}
	v.Subject = "Your " + oneLine(d.OrgName) + " sign-in address was changed"
	// Masked: whoever reads the old mailbox learns enough to recognise the
	// address, not enough to write to it.
	v.NewEmail = maskEmail(d.NewEmail)
	return render("email_change_old", v)
}

// ComposeEmailChangeNew renders the notice to a claimed customer's new
// sign-in address: that it now signs in to the account, where to sign in,
// and whom to contact if they do not recognise the account.
func ComposeEmailChangeNew(d EmailChangeData) (subject, text, html string, err error) {
	v, err := emailChangeView(d)
	if err != nil {
		return "", "", "", err
	}
	v.Subject = "This is now your " + oneLine(d.OrgName) + " sign-in address"
	return render("email_change_new", v)
}

func emailChangeView(d EmailChangeData) (view, error) {
	if d.OrgName == "" || d.NewEmail == "" || d.ChangedAt.IsZero() || d.SignInURL == "" {
		return view{}, fmt.Errorf("mailer: an email change notice needs an organization name, the new address, the time of the change and the sign-in URL")
	}
	return view{
		OrgName:   d.OrgName,
		Greeting:  greeting(d.CustomerName),
		ReplyTo:   d.ReplyTo,
		NewEmail:  d.NewEmail,
		ChangedAt: format.Expiry(d.ChangedAt, d.Location), // every time in the emails is written alike
		SignInURL: d.SignInURL,
	}.branded(d.Brand), nil
}

// maskEmail shows an address the way a notice to another mailbox may: the
// first character of the local part and the whole domain
// ("j***@example.com").
func maskEmail(addr string) string {
	local, domain := addr, ""
	if at := strings.LastIndex(addr, "@"); at >= 0 {
		local, domain = addr[:at], addr[at+1:]
	}
	masked := "***"
	if r, size := utf8.DecodeRuneInString(local); size > 0 && r != utf8.RuneError {
		masked = string(r) + masked
	}
	if domain == "" {
		return masked
	}
	return masked + "@" + domain
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
