package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Outbox bodies carry live claim and reset links, so they are stored sealed:
// AES-256-GCM under a key kept in a file outside the database (the outbox
// key file), with a fresh random nonce per value and the message's identity
// (organization, customer, kind, recipient, which body) as associated data,
// so a sealed body moved to another customer's message, or a message whose
// recipient was changed, does not open. A copy of the database files (a disk snapshot, a backup,
// the WAL) without the key file holds no usable link.
//
// Random 96-bit nonces are safe for 2^32 seals per key; an outbox seals a
// few per invite, and `frontdesk outbox rotate-key` starts a new key.
//
// A sealed value describes itself: "fdo1.<key id>.<base64url(nonce ‖
// ciphertext)>", so keys can rotate while older values still open.

// OutboxKeyFile is the key file's name beside the database when no other
// path is given.
const OutboxKeyFile = "outbox.key"

const (
	sealPrefix   = "fdo1."
	keyLineTag   = "fdk1"
	keyIDBytes   = 4
	keyBytes     = 32
	keyFileIntro = `# frontdesk outbox key file. It decrypts the email waiting in the outbox,
# which carries live claim and reset links: keep it secret (mode 600) and
# out of backups kept with the database. "frontdesk outbox rotate-key"
# replaces it. The first key seals new mail; any others only open older mail.
`
)

type outboxKey struct {
	id   string
	raw  []byte
	aead cipher.AEAD
	code []byte // the MAC key of one-time claim codes (code.go)
}

// keyring is the outbox key file as last read. Sealing looks at the file
// every time (a stat; it is read again when it changed), so that a rotation
// made by another process is followed at once; opening uses what was read
// and reads again only for a key it does not know.
type keyring struct {
	path string
	// mayCreate: the first seal makes the file when it does not exist. Only
	// for the default file beside the database: a key file named
	// explicitly is shared or kept apart on purpose, and one that is
	// missing (a share not mounted) must not be replaced by a new key that
	// no other machine has.
	mayCreate bool

	mu      sync.Mutex
	content []byte      // the file as last parsed; nil: not read, or absent
	info    os.FileInfo // of the file as last read
	keys    []outboxKey
}

// current returns the keys as last read if the file has not changed since
// (a rotation replaces the file, so it is another inode; an edit in place
// changes its modification time or size).
func (k *keyring) current() ([]outboxKey, bool) {
	st, err := os.Stat(k.path)
	if err != nil {
		return nil, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.info == nil || !os.SameFile(st, k.info) || !st.ModTime().Equal(k.info.ModTime()) || st.Size() != k.info.Size() || st.Mode() != k.info.Mode() {
		return nil, false
	}
	return k.keys, true
}

// errNoKeyFile is load's answer for a key file that does not exist.
var errNoKeyFile = errors.New("no outbox key file")

// load reads and parses the key file, refusing one that others can read.
func (k *keyring) load() ([]outboxKey, error) {
	b, st, err := ReadSecretFile(k.path, "the outbox key file")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoKeyFile
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.content != nil && bytes.Equal(b, k.content) {
		k.info = st
		return k.keys, nil
	}
	keys, err := parseKeys(k.path, b)
	if err != nil {
		return nil, err
	}
	k.content, k.info, k.keys = b, st, keys
	return keys, nil
}

func parseKeys(path string, b []byte) ([]outboxKey, error) {
	var keys []outboxKey
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		bad := func() error {
			return Errorf(EINVALID, "the outbox key file %s is damaged (line %d); restore it from where you keep it safe", path, i+1)
		}
		if len(f) != 3 || f[0] != keyLineTag {
			return nil, bad()
		}
		id, err := hex.DecodeString(f[1])
		if err != nil || len(id) != keyIDBytes {
			return nil, bad()
		}
		raw, err := base64.RawURLEncoding.DecodeString(f[2])
		if err != nil || len(raw) != keyBytes {
			return nil, bad()
		}
		key, err := newOutboxKey(f[1], raw)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, Errorf(EINVALID, "the outbox key file %s holds no key; restore it, or move it away to have a new one made (mail sealed with the old key can then not be sent)", path)
	}
	return keys, nil
}

func newOutboxKey(id string, raw []byte) (outboxKey, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return outboxKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return outboxKey{}, err
	}
	return outboxKey{id: id, raw: raw, aead: aead, code: deriveCodeKey(raw)}, nil
}

// generateKey makes a key whose id differs from every one in have.
func generateKey(have []outboxKey) (outboxKey, error) {
	for {
		id := make([]byte, keyIDBytes)
		raw := make([]byte, keyBytes)
		rand.Read(id)
		rand.Read(raw)
		sid := hex.EncodeToString(id)
		taken := false
		for _, h := range have {
			taken = taken || h.id == sid
		}
		if !taken {
			return newOutboxKey(sid, raw)
		}
	}
}

// sealKey is the key new values are sealed with: the file's first, read
// again if it changed. A missing default file is created with a new key
// (first use); two processes doing so at once end up with the same one.
func (k *keyring) sealKey() (outboxKey, error) {
	return k.sealKeyOr(k.mayCreate)
}

// sealKeyOr is sealKey, creating a missing file when create is set.
func (k *keyring) sealKeyOr(create bool) (outboxKey, error) {
	if keys, ok := k.current(); ok {
		return keys[0], nil
	}
	keys, err := k.load()
	if errors.Is(err, errNoKeyFile) {
		if k.hadKeys() {
			// Making a new key now would leave everything sealed so far
			// unopenable with no sign of why.
			return outboxKey{}, Errorf(EINVALID, "the outbox key file %s has disappeared; restore it (or start frontdesk with --outbox-key pointing at it)", k.path)
		}
		if !create {
			return outboxKey{}, Errorf(EINVALID, "the outbox key file %s does not exist; copy it from where it is kept, or make a new one with `frontdesk outbox rotate-key --outbox-key %s`", k.path, k.path)
		}
		if keys, err = k.create(); err != nil {
			return outboxKey{}, err
		}
	} else if err != nil {
		return outboxKey{}, err
	}
	return keys[0], nil
}

func (k *keyring) hadKeys() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys != nil
}

// create writes a new key file with one fresh key unless one appeared
// meanwhile, and returns the file's keys.
func (k *keyring) create() ([]outboxKey, error) {
	key, err := generateKey(nil)
	if err != nil {
		return nil, err
	}
	if err := writeKeyFile(k.path, []outboxKey{key}, false); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return k.load()
}

// openKey returns the key with id, reading the file again if it is not
// among those already read (another process may have rotated).
func (k *keyring) openKey(id string) (outboxKey, error) {
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	for _, key := range keys {
		if key.id == id {
			return key, nil
		}
	}
	keys, err := k.load()
	if errors.Is(err, errNoKeyFile) {
		return outboxKey{}, Errorf(EINVALID, "the message is sealed with outbox key %s, but there is no key file at %s; start frontdesk with the key file it was written with (--outbox-key)", id, k.path)
	} else if err != nil {
		return outboxKey{}, err
	}
	for _, key := range keys {
		if key.id == id {
			return key, nil
		}
	}
	return outboxKey{}, Errorf(EINVALID, "the message is sealed with outbox key %s, which the key file %s does not hold; start frontdesk with the key file it was written with (--outbox-key)", id, k.path)
}

// writeKeyFile writes keys to path, mode 0600, whole or not at all: a
// temporary file beside it is linked into place (replace false: only if path
// does not exist, fs.ErrExist otherwise) or renamed over it (replace true).
func writeKeyFile(path string, keys []outboxKey, replace bool) error {
	var b strings.Builder
	b.WriteString(keyFileIntro)
	for _, key := range keys {
		fmt.Fprintf(&b, "%s %s %s\n", keyLineTag, key.id, base64.RawURLEncoding.EncodeToString(key.raw))
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Errorf(EINVALID, "cannot create the directory of the outbox key file %s: %v", path, err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".new-*") // mode 0600
	if err != nil {
		return Errorf(EINVALID, "cannot write the outbox key file %s: %v", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return Errorf(EINVALID, "cannot write the outbox key file %s: %v", path, err)
	}
	// On disk before it is in place: a key file lost in a crash after the
	// database committed values sealed with it would lose that mail.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Errorf(EINVALID, "cannot write the outbox key file %s: %v", path, err)
	}
	if err := tmp.Close(); err != nil {
		return Errorf(EINVALID, "cannot write the outbox key file %s: %v", path, err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return err
	}
	if err != nil {
		return Errorf(EINVALID, "cannot write the outbox key file %s: %v", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// sealAD is the associated data of one body: what the message is and whom
// it goes to (organization, customer, kind, recipient). part is "text" or
// "html". A body copied into another customer's message, or a message whose
// recipient was changed, does not open; the row id is not part of it, since
// it is known only once the row is written. Each field is length-prefixed
// so no two messages share it.
func sealAD(keyID string, m *OutboxMessage, part string) []byte {
	ad := []byte("frontdesk outbox body")
	for _, f := range []string{keyID, strconv.FormatInt(m.OrgID, 10), strconv.FormatInt(m.CustomerID, 10), m.Kind, m.To, part} {
		ad = binary.AppendUvarint(ad, uint64(len(f)))
		ad = append(ad, f...)
	}
	return ad
}

// seal returns body sealed for m's row; "" stays "" (no body).
func (key outboxKey) seal(m *OutboxMessage, part, body string) string {
	if body == "" {
		return ""
	}
	nonce := make([]byte, key.aead.NonceSize(), key.aead.NonceSize()+len(body)+key.aead.Overhead())
	rand.Read(nonce)
	sealed := key.aead.Seal(nonce, nonce, []byte(body), sealAD(key.id, m, part))
	return sealPrefix + key.id + "." + base64.RawURLEncoding.EncodeToString(sealed)
}

// sealedKeyID is the key id a sealed value names, or false for a value that
// is not sealed.
func sealedKeyID(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, sealPrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ".")
	return id, ok
}

// open returns the body a sealed value holds for m's row.
func (k *keyring) open(m *OutboxMessage, part, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	id, ok := sealedKeyID(v)
	if !ok {
		// Only an older frontdesk still running on this database writes
		// plain bodies (the upgrade sealed those it found). Sending them
		// would make the key worthless as a guard of what goes out.
		return "", Errorf(EINVALID, "the message body is not sealed (an older frontdesk wrote it); it cannot be sent (send a new invite)")
	}
	key, err := k.openKey(id)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(v[len(sealPrefix)+len(id)+1:])
	if err != nil || len(raw) < key.aead.NonceSize()+key.aead.Overhead() {
		return "", Errorf(EINVALID, "the message body is damaged; it cannot be sent (send a new invite)")
	}
	n := key.aead.NonceSize()
	body, err := key.aead.Open(nil, raw[:n], raw[n:], sealAD(id, m, part))
	if err != nil {
		return "", Errorf(EINVALID, "the message body does not belong to this message (altered, or copied from another); it cannot be sent (send a new invite)")
	}
	return string(body), nil
}

// openBodies replaces m's sealed bodies by their text. A body that does not
// open leaves both empty and says why in BodyErr: the worker must not send
// the message, and one bad message must not fail the lease of the others.
func (db *DB) openBodies(msgs []*OutboxMessage) {
	for _, m := range msgs {
		text, err := db.keys.open(m, "text", m.Text)
		var html string
		if err == nil {
			html, err = db.keys.open(m, "html", m.HTML)
		}
		if err != nil {
			m.Text, m.HTML, m.BodyErr = "", "", err
			continue
		}
		m.Text, m.HTML = text, html
	}
}
