package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadSecretFile reads a key file (the outbox key, the SSH host key, a
// DKIM key), named what in messages ("the SSH host key"). Like sshd with its
// host key, it refuses a file others can read or write: such a key protects
// nothing. A missing file is an error that errors.Is(err, fs.ErrNotExist),
// for callers that make one then.
func ReadSecretFile(path, what string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s %s does not exist: %w", what, path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, nil, Errorf(EINVALID, "cannot read %s %s: %v", what, path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, Errorf(EINVALID, "cannot read %s %s: %v", what, path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, Errorf(EINVALID, "%s %s is not a regular file", what, path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, nil, Errorf(EINVALID, "%s %s can be read by others (mode %v); run `chmod 600 %s`", what, path, st.Mode().Perm(), path)
	}
	// Keys are small; a limit keeps a wrong path (a log, a disk image) from
	// being read whole.
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, nil, Errorf(EINVALID, "cannot read %s %s: %v", what, path, err)
	}
	return b, st, nil
}
