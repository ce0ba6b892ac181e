package claim

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
	"golang.org/x/crypto/argon2"

	"frontdesk/store"
	"frontdesk/store/format"
)

// Password rules follow NIST SP 800-63B rev. 4 for a single-factor secret:
// length is what matters, checked on the whole password (never truncated), no
// composition rules, and a check against passwords attackers try first: a
// blocklist, context words, and a strength estimate.
const (
	DefaultMinPassword = 15
	// MaxPassword is far above the 64 NIST asks us to allow; the cap only
	// stops someone posting megabytes into the hasher.
	MaxPassword = 256

	// minDistinct is the fewest different characters a password may use.
	// Fifteen characters drawn from four symbols give at most 4^15 ≈ 10^9
	// strings even when drawn at random, and people who type such strings
	// ("0000000000000001", "               !") do not draw them at random.
	minDistinct = 5
	// minGuesses is the least number of guesses the zxcvbn estimate must
	// put on a password: 10^8, the lower edge of zxcvbn's score 3 ("safely
	// unguessable: moderate protection from an offline slow-hash attack").
	// Online guessing is throttled to a few dozen tries a day per address
	// (see FreeSignInFailures), so this bound is about a stolen database,
	// where every guess costs an argon2id hash. NIST asks for no composition
	// rules, so the estimate, not character classes, is what refuses
	// guessable patterns (sequences, dates, keyboard walks, repeated or
	// common words). zxcvbn gives every 8-character string at most about
	// 10^8 guesses, so the bound is the edge itself rather than score 3's
	// 10^8+5: a random 8-character password still passes where an
	// organization has lowered the minimum to 8 (the least it may).
	minGuesses = 1e8
	// estimateRunes is how much of a password the estimate reads. zxcvbn's
	// repeat matching grows with the cube of the length (about 30 ms at 100
	// characters, half a second at 256), and a password whose first 100
	// characters withstand 10^8 guesses withstands them whole.
	estimateRunes = 100
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
	if d := distinct(pw); d < minDistinct {
		return &PasswordError{fmt.Sprintf("That password uses only %d different characters, so it would be easy to guess. Use more variety: a few unrelated words work well.", d)}
	}
	return guessable(pw, context)
}

// distinct counts the different characters of pw.
func distinct(pw string) int {
	seen := map[rune]bool{}
	for _, r := range pw {
		seen[r] = true
	}
	return len(seen)
}

// guessable runs the strength estimate on pw, and again without its spaces
// and punctuation ("1234 5678 9012 3456" is 1234567890123456 to an
// attacker, who tries the usual separators), with the context words as the
// words guessed first, and refuses pw when the weaker estimate is under
// minGuesses. The refusal names the patterns the estimate found.
func guessable(pw string, context []string) error {
	inputs := userInputs(context)
	weakest := -1.0
	var seq []*match.Match
	for _, v := range []string{pw, strings.Map(dropSeparator, pw)} {
		if v == "" {
			continue
		}
		if g, s := estimate(v, inputs); weakest < 0 || g < weakest {
			weakest, seq = g, s
		}
	}
	if weakest < 0 || weakest >= minGuesses {
		return nil
	}
	msg := "That password would be easy to guess"
	if why := patterns(seq); why != "" {
		msg += " (it relies on " + why + ")"
	}
	return &PasswordError{msg + ". Add a word or two that don't belong together, or choose something less predictable."}
}

// estimate is zxcvbn's guess count for pw. The Go port indexes strings by
// byte in some matchers and by character in others, so on non-ASCII text it
// answers nonsense (0 guesses for a long Cyrillic passphrase). It therefore
// reads the ASCII characters only, at most estimateRunes of them, where its
// dictionaries and patterns (English words, keyboards, digit sequences,
// dates) apply anyway; every other character counts as zxcvbn counts a
// character no pattern explains, ten guesses each. Repeats and low variety
// in any script are refused earlier (repetitive, minDistinct).
func estimate(pw string, inputs []string) (float64, []*match.Match) {
	ascii := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf {
			return r
		}
		return -1
	}, pw)
	other := utf8.RuneCountInString(pw) - len(ascii)
	guesses, seq := 1.0, []*match.Match(nil)
	if ascii != "" {
		res := zxcvbn.PasswordStrength(ascii[:min(len(ascii), estimateRunes)], inputs)
		guesses, seq = res.Guesses, res.Sequence
	}
	return guesses * math.Pow(10, float64(other)), seq
}

func dropSeparator(r rune) rune {
	if unicode.IsSpace(r) || unicode.IsPunct(r) {
		return -1
	}
	return r
}

// userInputs are the context words as zxcvbn's first-guessed dictionary:
// each whole and each word of it, in ASCII as estimate reads passwords
// ("Bergström" as "bergstrom", which is how many type it anyway).
func userInputs(context []string) []string {
	var out []string
	for _, c := range context {
		c = strings.ToLower(c)
		words := append([]string{c}, strings.FieldsFunc(c, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })...)
		words = append(words, strings.Join(strings.Split(store.Slugify(c), "-"), ""))
		words = append(words, strings.Split(store.Slugify(c), "-")...)
		for _, w := range words {
			if len(w) >= 3 && !strings.ContainsFunc(w, func(r rune) bool { return r >= utf8.RuneSelf }) && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// patterns words what the estimate matched, in the order found.
func patterns(seq []*match.Match) string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, m := range seq {
		switch m.Pattern {
		case "dictionary":
			if m.DictionaryName == "user_inputs" {
				add("your name, your email or the organization's name")
			} else {
				add("common words, names or passwords")
			}
		case "spatial":
			add("keyboard patterns like qwerty")
		case "repeat":
			add("repetition")
		case "sequence":
			add("sequences like 1234 or abcd")
		case "date", "regex":
			add("dates or years")
		}
	}
	return format.And(out)
}

// repetitive catches one unit repeated, in any script ("aaaa…", "abcabc…",
// "1212…", "парольпароль…"), and keyboard or digit runs ("123456789…",
// "qwertyuiop…").
func repetitive(pw string) bool {
	r := []rune(pw)
	for unit := 1; unit <= len(r)/2; unit++ {
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
	saltLen      = 16
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
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// argonHash is an encoded argon2id hash, parsed.
type argonHash struct {
	mem, time  uint32
	threads    uint8
	salt, hash []byte
}

// parseHash reads an encoded PHC string; false for anything unusable (an
// unclaimed account, the demo's "!demo", parameters out of bounds).
func parseHash(encoded string) (argonHash, bool) {
	var h argonHash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.mem, &h.time, &h.threads); err != nil || h.mem == 0 || h.mem > 1<<20 || h.time == 0 || h.time > 10 || h.threads == 0 {
		return h, false
	}
	var err1, err2 error
	h.salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	h.hash, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.hash) == 0 {
		return h, false
	}
	return h, true
}

// VerifyPassword checks pw against an encoded hash in constant time, with
// the parameters the hash was made with. An unusable hash (an unclaimed
// account, the demo's "!demo") never verifies.
func VerifyPassword(ctx context.Context, encoded, pw string) (bool, error) {
	h, ok := parseHash(encoded)
	if !ok {
		return false, nil
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(pw), h.salt, h.time, h.mem, h.threads, uint32(len(h.hash)))
	return subtle.ConstantTimeCompare(got, h.hash) == 1, nil
}

// needsRehash reports whether a usable hash was made with other parameters
// than HashPassword uses now, so that a sign-in which has just verified it
// should store a new one (SignIn). Weaker or stronger alike: the constants
// above are the policy, and one set of parameters keeps every sign-in's
// cost the same.
func needsRehash(encoded string) bool {
	h, ok := parseHash(encoded)
	return ok && (h.mem != argonMemory || h.time != argonTime || h.threads != argonThreads ||
		len(h.hash) != argonKeyLen || len(h.salt) != saltLen)
}

// passwordContext lists the words a customer's password must not be built
// from.
func passwordContext(org *store.Org, c *store.Customer) []string {
	return []string{c.Email, c.FirstName, c.LastName, org.Name, org.Slug}
}
