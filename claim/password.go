package claim

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"frontdesk/store"
)

// Password rules follow NIST SP 800-63B rev. 4 for a single-factor secret:
// length is what matters, checked on the whole password (never truncated), no
// composition rules, and a blocklist of common and context-specific words.
const (
	DefaultMinPassword = 15
	// MaxPassword is far above the 64 NIST asks us to allow; the cap only
	// stops someone posting megabytes into the hasher.
	MaxPassword = 256
)

//go:embed blocklist.txt
var blocklistText string

// blocklist holds common passwords, lower-cased. Short ones are listed too
// because an organization may lower the minimum to 8.
var blocklist = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(blocklistText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
}()

// PasswordError is a refusal of a new password, worded for the customer.
type PasswordError struct{ Message string }

func (e *PasswordError) Error() string { return e.Message }

// CheckPassword applies the policy. min is the organization's minimum;
// context holds words the password must not be built from (the customer's
// email and name, the organization's name).
func CheckPassword(pw string, min int, context ...string) error {
	if min < 8 {
		min = DefaultMinPassword
	}
	if !utf8.ValidString(pw) {
		return &PasswordError{"Your password contains characters that are not valid text."}
	}
	n := utf8.RuneCountInString(pw)
	if n < min {
		return &PasswordError{fmt.Sprintf("Use at least %d characters (you typed %d). A few unrelated words make a long password easy to remember.", min, n)}
	}
	if n > MaxPassword {
		return &PasswordError{fmt.Sprintf("Use at most %d characters.", MaxPassword)}
	}
	lower := strings.ToLower(pw)
	if blocklist[lower] || blocklist[strings.TrimRightFunc(lower, unicode.IsDigit)] {
		return &PasswordError{"That password is on a list of commonly used passwords that attackers try first. Choose something less common."}
	}
	if repetitive(lower) {
		return &PasswordError{"That password is a repeated character or pattern. Choose something less predictable."}
	}
	if builtFrom(lower, context) {
		return &PasswordError{"That password is too close to your name, your email or the organization's name. Choose something unrelated."}
	}
	return nil
}

// repetitive catches one short unit repeated ("aaaa…", "abcabc…", "1212…")
// and keyboard or digit runs ("123456789…", "qwertyuiop…").
func repetitive(pw string) bool {
	r := []rune(pw)
	for unit := 1; unit <= 4 && unit < len(r); unit++ {
		same := true
		for i := unit; i < len(r); i++ {
			if r[i] != r[i%unit] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	for _, run := range []string{"0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn"} {
		if strings.Contains(run, pw) {
			return true
		}
	}
	return false
}

// builtFrom reports whether pw is made mostly of context words: what remains
// after removing every context word (and spaces, digits, punctuation) is
// shorter than 8 letters.
func builtFrom(pw string, context []string) bool {
	rest := pw
	for _, c := range context {
		for _, w := range strings.FieldsFunc(strings.ToLower(c), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if utf8.RuneCountInString(w) >= 3 {
				rest = strings.ReplaceAll(rest, w, "")
			}
		}
	}
	letters := 0
	for _, r := range rest {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters < 8 && rest != pw
}

// argon2id parameters: OWASP's first recommended set (19 MiB, 2 passes, 1
// lane). hashSlots bounds how many hashes run at once, so a burst of
// sign-ins costs at most hashSlots × 19 MiB instead of exhausting memory.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

func acquire(ctx context.Context) error {
	select {
	case hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release() { <-hashSlots }

// HashPassword returns the encoded PHC string of pw:
// $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func HashPassword(ctx context.Context, pw string) (string, error) {
	if err := acquire(ctx); err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks pw against an encoded hash in constant time. An
// unusable hash (an unclaimed account, the demo's "!demo") never verifies.
func VerifyPassword(ctx context.Context, encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var version int
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, nil
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || mem > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false, nil
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, nil
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// passwordContext lists the words a customer's password must not be built
// from.
func passwordContext(org *store.Org, c *store.Customer) []string {
	return []string{c.Email, c.FirstName, c.LastName, org.Name, org.Slug}
}
