package claim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// tokenLen is the length of a token as sent: 32 random bytes in unpadded
// base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(32)

// newToken returns a fresh token and the SHA-256 that is all the database
// keeps of it: a copy of the database (a backup, a leaked file) opens no
// accounts.
func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	token = base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:]
}

// TokenHash parses a token from a link and returns its hash, or false for
// anything that cannot be a token (wrong length or alphabet), which callers
// treat exactly like an unknown token. The hash is looked up by index, so no
// comparison of secret bytes happens in Go at all.
func TokenHash(token string) ([]byte, bool) {
	if len(token) != tokenLen {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 32 {
		return nil, false
	}
	h := sha256.Sum256([]byte(token))
	return h[:], true
}
