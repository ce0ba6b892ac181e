package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
)

// Config is everything a frontdesk process can be told, from flags or
// FRONTDESK_* environment variables. Every command parses all of it, so a
// setting such as --invite-ttl means the same wherever it matters.
type Config struct {
	DataDir   string
	Org       string
	InviteTTL time.Duration
	BaseURL   string

	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPAuth     string
	SMTPTLS      string
	SMTPTimeout  time.Duration
	MailFrom     string

	// DKIMKey and DKIMSelector sign every email for the domain of
	// MailFrom; both or neither.
	DKIMKey      string
	DKIMSelector string

	OutboxKey string // "": outbox.key in the data directory

	// Database is where the data lives: "" for frontdesk.db in the data
	// directory, or a PostgreSQL connection string (store.IsPostgres) for
	// a server several nodes share. It may hold a password: messages name
	// it by DBName, never whole.
	Database string

	// HostKey is the SSH host key file: "" for hostKeyFile in the data
	// directory. Nodes behind one address share one (docs/deploy).
	HostKey string

	// DataDirFrom is the rule that chose DataDir (resolveDataDir), named
	// in messages about where the database is.
	DataDirFrom string

	// EmailDNS is where the email check asks whether a domain receives
	// mail: "" the system's resolver, "off" nowhere (typo warnings only),
	// or a DNS server's HOST:PORT.
	EmailDNS string

	// LogFormat is text (key=value) or json; LogLevel debug, info, warn
	// or error, "" for the command's own (see App.logger).
	LogFormat string
	LogLevel  string
}

// DBPath is the database file inside the data directory.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "frontdesk.db") }

// DBTarget is what the store opens: --database, or the file in the data
// directory.
func (c *Config) DBTarget() string {
	if c.Database != "" {
		return c.Database
	}
	return c.DBPath()
}

// DBName names the database for people: the file, or for PostgreSQL its
// server and database only (a connection string may hold a password).
func (c *Config) DBName() string { return store.Describe(c.DBTarget()) }

// HostKeyPath is the SSH host key file.
func (c *Config) HostKeyPath() string {
	if c.HostKey != "" {
		return c.HostKey
	}
	return filepath.Join(c.DataDir, hostKeyFile)
}

// bindConfig declares the configuration flags on the root command, inherited
// by every subcommand.
func bindConfig(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", "", "directory holding frontdesk.db, outbox.key, the SSH host key and outbox/ (default: $STATE_DIRECTORY under systemd, else $XDG_DATA_HOME/frontdesk, else ~/.local/share/frontdesk)")
	fs.StringVar(&c.Org, "org", "", "organization slug (may be left out when there is only one)")
	durationVar(fs, &c.InviteTTL, "invite-ttl", 0, "invite link lifetime, overriding the organization's setting (e.g. 7d)")
	fs.StringVar(&c.BaseURL, "base-url", "http://localhost:8080", "public address of the customers' web, used in emailed links")
	fs.StringVar(&c.SMTPHost, "smtp-host", "", "SMTP server; empty writes mail as .eml files under <data-dir>/outbox/")
	fs.IntVar(&c.SMTPPort, "smtp-port", 587, "SMTP port")
	fs.StringVar(&c.SMTPUsername, "smtp-username", "", "SMTP user name (no authentication when empty)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP password, or with --smtp-auth xoauth2 the access token (prefer FRONTDESK_SMTP_PASSWORD: flags show in ps)")
	fs.StringVar(&c.SMTPAuth, "smtp-auth", mailer.AuthAuto, "how to log in with --smtp-username: auto (the strongest the server offers; never the password unencrypted to another machine), plain, login, cram-md5, scram-sha-256, xoauth2 or none")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", "starttls", "SMTP transport security: starttls (required), tls or none")
	durationVar(fs, &c.SMTPTimeout, "smtp-timeout", mailer.DefaultTimeout, "how long the mail server gets for each step (connecting, greeting, EHLO/TLS/AUTH, each message) before the message waits for a retry")
	fs.StringVar(&c.MailFrom, "mail-from", "frontdesk@localhost", "envelope sender address of outgoing mail")
	fs.StringVar(&c.DKIMKey, "dkim-key", "", "private key file (PEM, Ed25519 or RSA, mode 0600) that DKIM-signs every email for the domain of --mail-from; needs --dkim-selector")
	fs.StringVar(&c.DKIMSelector, "dkim-selector", "", "DKIM selector: the public key is published as a TXT record at SELECTOR._domainkey.DOMAIN")
	fs.StringVar(&c.EmailDNS, "email-dns", "", "DNS server the email check asks whether a customer's email domain receives mail (HOST:PORT); empty: the system's resolver; off: no lookups, typo warnings only")
	fs.StringVar(&c.Database, "database", "", "database: empty for frontdesk.db in the data directory; a PostgreSQL connection string (postgres://USER:PASSWORD@HOST:PORT/DB or host=HOST dbname=DB ...) for one that several serve nodes share (prefer FRONTDESK_DATABASE: flags show in ps)")
	fs.StringVar(&c.HostKey, "host-key", "", "SSH host key file of serve (default <data-dir>/"+hostKeyFile+", made on first start); nodes behind one address share one")
	fs.StringVar(&c.OutboxKey, "outbox-key", "", "key file that encrypts email waiting in the outbox (default <data-dir>/outbox.key, made on first use; a file named here must exist: outbox rotate-key makes one); keep it out of database backups")
	c.LogFormat = "text"
	fs.Var(choice{&c.LogFormat, logFormats}, "log-format", "log lines as text (key=value) or json (one object a line)")
	fs.Var(choice{&c.LogLevel, logLevelNames}, "log-level", "least severity logged: debug, info, warn or error (default info for serve and tui, warn for other commands)")
}

// resolver is what the email check asks (claim.Service.Resolver): nil when
// --email-dns is off.
func (c *Config) resolver() claim.Resolver {
	switch c.EmailDNS {
	case "off":
		return nil
	case "":
		return net.DefaultResolver
	}
	server := c.EmailDNS
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// maxSMTPTimeout caps --smtp-timeout: a server silent for longer is not
// coming back within the attempt, and a mistyped unit (30m for 30s) would
// otherwise hold every "send now" and every shutdown that long.
const maxSMTPTimeout = 5 * time.Minute

// validate checks values a flag parser cannot.
func (c *Config) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir is empty")
	}
	if c.InviteTTL < 0 || (c.InviteTTL > 0 && c.InviteTTL < time.Minute) {
		return fmt.Errorf("--invite-ttl %s is too short; give a duration such as 3d or 7d", format.Duration(c.InviteTTL))
	}
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		return fmt.Errorf("--smtp-tls %q: use starttls, tls or none", c.SMTPTLS)
	}
	if !slices.Contains(mailer.AuthModes, c.SMTPAuth) {
		return fmt.Errorf("--smtp-auth %q: use %s", c.SMTPAuth, strings.Join(mailer.AuthModes, ", "))
	}
	if (c.DKIMKey == "") != (c.DKIMSelector == "") {
		return fmt.Errorf("--dkim-key and --dkim-selector go together: give both, or neither to send unsigned mail")
	}
	if c.SMTPTimeout <= 0 || c.SMTPTimeout > maxSMTPTimeout {
		return fmt.Errorf("--smtp-timeout %s: give a positive duration up to %s, such as 30s", format.Duration(c.SMTPTimeout), format.DurationWords(maxSMTPTimeout))
	}
	if c.SMTPPort <= 0 || c.SMTPPort > 65535 {
		return fmt.Errorf("--smtp-port %d is not a port number", c.SMTPPort)
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("--base-url %q must start with http:// or https://", c.BaseURL)
	}
	if c.EmailDNS != "" && c.EmailDNS != "off" {
		host, port, err := net.SplitHostPort(c.EmailDNS)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("--email-dns %q: give a DNS server as HOST:PORT (such as 127.0.0.1:53), or off", c.EmailDNS)
		}
	}
	if c.Database != "" && !store.IsPostgres(c.Database) {
		// Not echoed: it may be a connection string with a typo and a
		// password in it.
		return fmt.Errorf("--database takes a PostgreSQL connection string (postgres://USER:PASSWORD@HOST:PORT/DATABASE, or host=HOST dbname=DATABASE ...); leave it empty for the SQLite file in --data-dir")
	}
	if st, err := os.Stat(c.DataDir); err == nil && !st.IsDir() {
		return fmt.Errorf("--data-dir %s is a file, not a directory", c.DataDir)
	}
	return nil
}

// durationValue is a duration flag that takes days as well as Go's units
// ("7d", "1d12h", "90m": format.ParseDuration) and reads back as typed.
// Every duration flag is one (durationVar): a lifetime is thought of in
// days, and "168h" is nobody's way of saying a week.
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := format.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string {
	if *d == 0 {
		return "0" // pflag leaves a zero default out of --help
	}
	return format.Duration(time.Duration(*d))
}

func (d *durationValue) Type() string { return "duration" }

// durationVar declares a duration flag that takes days (durationValue).
func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

// envName is the environment variable of a flag: --smtp-host → FRONTDESK_SMTP_HOST.
func envName(flag string) string {
	return "FRONTDESK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// noEnv marks a flag that states an edit rather than configuration (org set
// --name, say): taking it from the environment would rewrite settings nobody
// asked to change.
const noEnv = "frontdesk_noenv"

func markNoEnv(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, noEnv, []string{"true"}); err != nil {
			panic(err)
		}
	}
}

// applyEnv sets every flag the user did not give from its FRONTDESK_*
// variable. A bad value names the variable, as a bad flag names the flag.
func applyEnv(cmd *cobra.Command, getenv func(string) string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" || f.Annotations[noEnv] != nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("%s=%q: %v (it sets --%s)", envName(f.Name), v, e, f.Name)
		}
	})
	return err
}
