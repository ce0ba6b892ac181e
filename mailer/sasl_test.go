package mailer

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The server side of the SASL mechanisms the test SMTP server offers:
// go-sasl has PLAIN; LOGIN, CRAM-MD5, SCRAM-SHA-256 and XOAUTH2 are written
// here from their specifications, so that go-mail's clients are checked
// against an independent implementation rather than against themselves.

// testToken is the OAuth access token the XOAUTH2 server accepts.
const testToken = "ya29.test-access-token"

// saslServer returns the server of mech, which calls ok with the user name
// once the client has proved itself.
func saslServer(mech string, ok func(user string)) (sasl.Server, error) {
	check := func(user, secret, want string) error {
		if user != testUser || secret != want {
			return smtp.ErrAuthFailed
		}
		ok(user)
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass, testPass) }), nil
	case sasl.Login:
		return &loginServer{check: func(u, p string) error { return check(u, p, testPass) }}, nil
	case "CRAM-MD5":
		return &cramServer{ok: ok}, nil
	case "SCRAM-SHA-256":
		return &scramServer{ok: ok}, nil
	case "XOAUTH2":
		return &xoauth2Server{check: func(u, tok string) error { return check(u, tok, testToken) }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the LOGIN mechanism (draft-murchison-sasl-login):
// "Username:", "Password:", each answered in turn.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (s *loginServer) Next(resp []byte) ([]byte, bool, error) {
	s.step++
	switch s.step {
	case 1:
		if len(resp) > 0 { // an initial response is the user name
			s.user, s.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		s.user = string(resp)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, s.check(s.user, string(resp))
	}
	return nil, false, errors.New("unexpected LOGIN response")
}

// cramServer is CRAM-MD5 (RFC 2195): a challenge, answered with the user
// name and the HMAC-MD5 of the challenge keyed with the password.
type cramServer struct {
	challenge []byte
	ok        func(user string)
}

func (s *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if s.challenge == nil {
		s.challenge = fmt.Appendf(nil, "<%s.test@localhost>", rand.Text())
		return s.challenge, false, nil
	}
	user, digest, found := strings.Cut(string(resp), " ")
	got, err := hex.DecodeString(digest)
	if !found || err != nil {
		return nil, false, smtp.ErrAuthFailed
	}
	mac := hmac.New(md5.New, []byte(testPass))
	mac.Write(s.challenge)
	if user != testUser || !hmac.Equal(got, mac.Sum(nil)) {
		return nil, false, smtp.ErrAuthFailed
	}
	s.ok(user)
	return nil, true, nil
}

// scramServer is SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel
// binding: client-first, server-first (nonce, salt, iterations),
// client-final with the proof, server-final with the server's signature.
type scramServer struct {
	step                    int
	clientFirstBare, sfirst string
	nonce, user             string
	salt                    []byte
	ok                      func(user string)
}

const scramIterations = 4096

func (s *scramServer) Next(resp []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if len(resp) == 0 { // no initial response: ask for client-first
			return []byte{}, false, nil
		}
		msg := string(resp)
		if !strings.HasPrefix(msg, "n,,") {
			return nil, false, errors.New("SCRAM: channel binding not supported")
		}
		s.clientFirstBare = msg[3:]
		var cnonce string
		for _, attr := range strings.Split(s.clientFirstBare, ",") {
			switch {
			case strings.HasPrefix(attr, "n="):
				s.user = attr[2:]
			case strings.HasPrefix(attr, "r="):
				cnonce = attr[2:]
			}
		}
		if cnonce == "" {
			return nil, false, errors.New("SCRAM: no client nonce")
		}
		s.nonce = cnonce + rand.Text()
		s.salt = []byte(rand.Text())
		s.sfirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(s.salt), scramIterations)
		s.step = 1
		return []byte(s.sfirst), false, nil
	case 1:
		msg := string(resp)
		withoutProof, proof64, found := strings.Cut(msg, ",p=")
		if !found || !strings.Contains(withoutProof, "r="+s.nonce) {
			return nil, false, smtp.ErrAuthFailed
		}
		proof, err := base64.StdEncoding.DecodeString(proof64)
		if err != nil {
			return nil, false, smtp.ErrAuthFailed
		}
		salted, err := pbkdf2.Key(sha256.New, testPass, s.salt, scramIterations, sha256.Size)
		if err != nil {
			return nil, false, err
		}
		authMessage := []byte(s.clientFirstBare + "," + s.sfirst + "," + withoutProof)
		clientKey := hmacSHA256(salted, []byte("Client Key"))
		storedKey := sha256.Sum256(clientKey)
		clientSig := hmacSHA256(storedKey[:], authMessage)
		want := make([]byte, len(clientKey))
		for i := range clientKey {
			want[i] = clientKey[i] ^ clientSig[i]
		}
		if s.user != testUser || !hmac.Equal(proof, want) {
			return nil, false, smtp.ErrAuthFailed
		}
		serverSig := hmacSHA256(hmacSHA256(salted, []byte("Server Key")), authMessage)
		s.step = 2
		return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), false, nil
	case 2:
		if len(resp) != 0 {
			return nil, false, errors.New("SCRAM: unexpected final response")
		}
		s.ok(s.user)
		return nil, true, nil
	}
	return nil, false, errors.New("SCRAM: unexpected step")
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// xoauth2Server is Google's and Microsoft's XOAUTH2: one initial response,
// "user=U\x01auth=Bearer TOKEN\x01\x01".
type xoauth2Server struct {
	check func(user, token string) error
}

func (s *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if len(resp) == 0 {
		return []byte{}, false, nil
	}
	var user, token string
	for _, f := range strings.Split(string(resp), "\x01") {
		switch {
		case strings.HasPrefix(f, "user="):
			user = f[5:]
		case strings.HasPrefix(f, "auth=Bearer "):
			token = f[12:]
		}
	}
	return nil, true, s.check(user, token)
}
