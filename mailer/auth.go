package mailer

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strings"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"frontdesk/store"
	"frontdesk/store/format"
)

// SMTP authentication modes of Config.Auth (--smtp-auth).
const (
	AuthAuto        = "auto"          // what the server offers, the strongest first (the default)
	AuthPlain       = "plain"         // PLAIN (RFC 4616)
	AuthLogin       = "login"         // LOGIN, the older twin of PLAIN
	AuthCRAMMD5     = "cram-md5"      // CRAM-MD5 (RFC 2195): the password is never sent
	AuthSCRAMSHA256 = "scram-sha-256" // SCRAM-SHA-256 (RFC 7677): neither sent nor stored as such by the server
	AuthXOAUTH2     = "xoauth2"       // an OAuth access token (Google, Microsoft), given as the password
	AuthNone        = "none"          // no AUTH, even with a user name
)

// AuthModes are the values of Config.Auth, in the order help and errors
// list them.
var AuthModes = []string{AuthAuto, AuthPlain, AuthLogin, AuthCRAMMD5, AuthSCRAMSHA256, AuthXOAUTH2, AuthNone}

// mechOf is the SASL mechanism of each mode that names one, as go-mail
// spells it.
var mechOf = map[string]gomail.SMTPAuthType{
	AuthPlain:       gomail.SMTPAuthPlain,
	AuthLogin:       gomail.SMTPAuthLogin,
	AuthCRAMMD5:     gomail.SMTPAuthCramMD5,
	AuthSCRAMSHA256: gomail.SMTPAuthSCRAMSHA256,
	AuthXOAUTH2:     gomail.SMTPAuthXOAUTH2,
}

// autoOrder is what auto takes, the strongest the server offers first:
// SCRAM-SHA-256 proves the password without sending it and lets the server
// keep only a salted hash; CRAM-MD5 does not send it either; PLAIN and
// LOGIN send it as it is (inside TLS). XOAUTH2 is never chosen by auto: it
// takes an access token, not a password, and only the operator knows which
// --smtp-password holds. The -PLUS variants (channel binding) are left out:
// go-mail needs the TLS state to build them, which a mechanism chosen
// while the server's EHLO is read does not have; servers that offer them
// offer the plain variant too.
//
// go-mail has an auto mode of its own (SMTPAuthAutoDiscover), not used
// here: it takes NTLM before CRAM-MD5, it decides whether the connection is
// encrypted from its own TLS step, which a connection made TLS by our
// dialer (--smtp-tls tls) bypasses, so it would refuse PLAIN inside
// implicit TLS, and its errors do not say what the server offered.
var autoOrder = []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}

// sendsPassword: the mechanism puts the secret itself on the wire.
func sendsPassword(m gomail.SMTPAuthType) bool {
	return m == gomail.SMTPAuthPlain || m == gomail.SMTPAuthLogin || m == gomail.SMTPAuthXOAUTH2
}

// authPolicy is how a transport logs in: the mode and the credentials.
type authPolicy struct {
	mode       string // AuthAuto or a mode in mechOf
	user, pass string
	host       string
}

// checkAuth validates the mode against the credentials given and returns
// the policy, or nil for no AUTH at all.
func checkAuth(mode, user, pass, host string) (*authPolicy, error) {
	if mode == "" {
		mode = AuthAuto
	}
	if !slices.Contains(AuthModes, mode) {
		return nil, store.Errorf(store.EINVALID, "SMTP authentication %q: use %s", mode, format.Or(AuthModes))
	}
	switch {
	case mode == AuthNone && user != "":
		return nil, store.Errorf(store.EINVALID, "--smtp-auth none logs in with no user name, but --smtp-username is set: drop it, or choose another --smtp-auth")
	case mode == AuthNone, mode == AuthAuto && user == "":
		return nil, nil
	case user == "" && mode == AuthXOAUTH2:
		return nil, store.Errorf(store.EINVALID, "--smtp-auth xoauth2 needs --smtp-username and the access token in --smtp-password")
	case user == "":
		return nil, store.Errorf(store.EINVALID, "--smtp-auth %s needs --smtp-username and --smtp-password", mode)
	}
	return &authPolicy{mode: mode, user: user, pass: pass, host: host}, nil
}

// chooser returns the smtp.Auth of one connection: it holds the state of
// one login, so each connection needs its own.
func (p *authPolicy) chooser() *authChooser { return &authChooser{p: p} }

// authChooser picks the mechanism once the server's EHLO is known (go-mail
// hands it the advertised mechanisms and whether the connection is under
// verified TLS), then runs go-mail's implementation of it.
type authChooser struct {
	p      *authPolicy
	mech   gomail.SMTPAuthType // chosen; "" until Start
	chosen gosmtp.Auth
}

func (a *authChooser) Start(si *gosmtp.ServerInfo) (string, []byte, error) {
	offered := make([]string, 0, len(si.Auth))
	for _, m := range si.Auth {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
			offered = append(offered, m)
		}
	}
	offers := func(m gomail.SMTPAuthType) bool { return slices.Contains(offered, string(m)) }
	if len(offered) == 0 {
		return "", nil, &authError{msg: "offers no login (its reply to EHLO has no AUTH), but --smtp-username is set: check --smtp-host and --smtp-port (mail submission is usually 587, or 465 with --smtp-tls tls), or drop --smtp-username if the server takes mail without one"}
	}
	if a.p.mode != AuthAuto {
		m := mechOf[a.p.mode]
		if !offers(m) {
			return "", nil, &authError{msg: fmt.Sprintf("offers %s; --smtp-auth %s cannot be used: choose auto or one it offers", format.And(offered), a.p.mode)}
		}
		// A mechanism named by the operator goes as asked, over
		// --smtp-tls none too: that is the one way to send a password
		// unencrypted, and it takes both settings spelled out.
		a.mech = m
	} else {
		// Encrypted: verified TLS (starttls is mandatory, tls is TLS from
		// the first byte), or a server on this machine, where nothing
		// crosses a network. Anywhere else auto keeps the password off
		// the wire: an attacker in between can offer PLAIN alone just
		// as well as a real server can.
		encrypted := si.TLS || loopback(a.p.host)
		var withheld []string
		for _, m := range autoOrder {
			if !offers(m) {
				continue
			}
			if sendsPassword(m) && !encrypted {
				withheld = append(withheld, string(m))
				continue
			}
			a.mech = m
			break
		}
		switch {
		case a.mech == "" && len(withheld) > 0:
			return "", nil, &authError{msg: fmt.Sprintf("offers %s, which would send the password unencrypted (--smtp-tls none): use --smtp-tls starttls or tls; on a network you trust, --smtp-auth %s sends it anyway",
				format.And(withheld), strings.ToLower(withheld[0]))}
		case a.mech == "" && offers(gomail.SMTPAuthXOAUTH2):
			return "", nil, &authError{msg: fmt.Sprintf("offers %s; --smtp-auth auto logs in with a password (SCRAM-SHA-256, CRAM-MD5, PLAIN or LOGIN): for an access token choose --smtp-auth xoauth2", format.And(offered))}
		case a.mech == "":
			return "", nil, &authError{msg: fmt.Sprintf("offers %s; frontdesk logs in with SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN or XOAUTH2 only: ask the mail provider for one of them", format.And(offered))}
		}
	}
	// go-mail's PLAIN and LOGIN check the connection themselves; the
	// decision above is the one that counts (allowUnencrypted), and they
	// get the host they were configured for.
	switch a.mech {
	case gomail.SMTPAuthPlain:
		a.chosen = gosmtp.PlainAuth("", a.p.user, a.p.pass, si.Name, true)
	case gomail.SMTPAuthLogin:
		a.chosen = gosmtp.LoginAuth(a.p.user, a.p.pass, si.Name, true)
	case gomail.SMTPAuthCramMD5:
		a.chosen = gosmtp.CRAMMD5Auth(a.p.user, a.p.pass)
	case gomail.SMTPAuthSCRAMSHA256:
		a.chosen = gosmtp.ScramSHA256Auth(a.p.user, a.p.pass)
	case gomail.SMTPAuthXOAUTH2:
		a.chosen = gosmtp.XOAuth2Auth(a.p.user, a.p.pass)
	}
	proto, ir, err := a.chosen.Start(si)
	if err != nil {
		return "", nil, &mechError{err}
	}
	return proto, ir, nil
}

func (a *authChooser) Next(fromServer []byte, more bool) ([]byte, error) {
	b, err := a.chosen.Next(fromServer, more)
	if err != nil {
		return nil, &mechError{err}
	}
	return b, nil
}

// mechError: the mechanism itself failed on the client's side (a SCRAM
// server whose proof does not match, an unexpected challenge).
type mechError struct{ err error }

func (e *mechError) Error() string { return e.err.Error() }
func (e *mechError) Unwrap() error { return e.err }

// explain turns a failure of the opening exchange into words when it was
// the login's: the server's refusal with what to check, or the choice
// Start could not make. Other failures are returned as they are.
func (a *authChooser) explain(err error, server string) error {
	var ae *authError
	if errors.As(err, &ae) {
		ae.server = server
		return ae
	}
	if a.mech == "" {
		return err // failed before the login
	}
	var me *mechError
	if errors.As(err, &me) {
		return &authError{server: server, msg: fmt.Sprintf("answered the %s login in a way frontdesk does not accept (%v)", a.mech, me.err), cause: err}
	}
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	reply := fmt.Sprintf("%d %s", te.Code, strings.Join(strings.Fields(te.Msg), " "))
	check := "check --smtp-username and --smtp-password"
	if a.mech == gomail.SMTPAuthXOAUTH2 {
		check = "check --smtp-username and the access token in --smtp-password (tokens expire)"
	}
	if te.Code/100 == 4 {
		return &authError{server: server, msg: fmt.Sprintf("could not check the login with %s now (%s); the mail waits and is tried again", a.mech, reply), cause: err}
	}
	return &authError{server: server, msg: fmt.Sprintf("refused the login with %s (%s): %s", a.mech, reply, check), cause: err}
}

// authError: logging in to the mail server failed, or was not tried
// because it could not be done safely or at all; the words say which and
// what to change. Temporary, like every failure to open a session: once
// the operator fixes the settings, the mail waiting goes.
type authError struct {
	server string // host:port
	msg    string // what follows "the mail server HOST:PORT "
	cause  error
}

func (e *authError) Error() string {
	server := "the mail server "
	if e.server != "" {
		server += e.server + " "
	}
	return server + e.msg
}

func (e *authError) Unwrap() error { return e.cause }

// loopback: the server is on this machine, so what is sent to it crosses
// no network.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
