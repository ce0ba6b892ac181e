package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"frontdesk/store"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// hostKey returns the server's SSH host key (PEM, OpenSSH format) kept at
// path, creating it on first start. Reusing it is what lets staff's
// known_hosts trust the server across restarts. Like sshd, it refuses a key
// others can read.
func hostKey(path string) ([]byte, error) {
	b, _, err := store.ReadSecretFile(path, "the SSH host key")
	if errors.Is(err, fs.ErrNotExist) {
		return newHostKey(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := gossh.ParsePrivateKey(b); err != nil {
		return nil, fmt.Errorf("the SSH host key %s is not a private key (%v); move it away to have a new one made", path, err)
	}
	return b, nil
}

func newHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "frontdesk host key")
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(block)
	// Written whole under a temporary name, then linked into place: two
	// servers starting at once on one data directory never see half a key,
	// and the loser of the race uses the winner's.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("creating the SSH host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing the SSH host key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing the SSH host key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return hostKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("creating the SSH host key: %w", err)
	}
	return b, nil
}
