package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runEnv runs frontdesk in-process with exactly env as its environment
// (newCLI's run always sets FRONTDESK_DATA_DIR).
func runEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// files lists what is under dir (relative paths), or nil when dir is absent.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return got
}

// The README: a mistake in the command line exits 2. An unknown command is
// one, at the top or under a group, and the message names it.
func TestUnknownCommandExits2(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus" for "frontdesk"`},
		{[]string{"custmers", "list"}, "Did you mean this?\n\tcustomers"},
		{[]string{"org", "bogus"}, `unknown command "bogus" for "frontdesk org"`},
		{[]string{"staff", "key", "lst"}, `unknown command "lst" for "frontdesk staff key"`},
		{[]string{"outbox", "lits"}, "Did you mean this?\n\tlist"},
	} {
		code, out, errs := c.run(tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "frontdesk --help") {
			t.Errorf("frontdesk %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	// A group alone shows its commands, as before, whatever the
	// configuration.
	if code, out, _ := c.run("org"); code != 0 || !strings.Contains(out, "list") {
		t.Errorf("frontdesk org: exit %d, %q", code, out)
	}
	if code, out, errs := runEnv(t, map[string]string{"FRONTDESK_SMTP_TLS": "carrier-pigeon"}, "staff"); code != 0 || !strings.Contains(out, "remove") {
		t.Errorf("frontdesk staff with a bad configuration: exit %d, %q %q", code, out, errs)
	}
	if got := files(t, c.dir); got != nil {
		t.Errorf("a mistaken command line left files: %v", got)
	}
}

// readCommands only read: without a database they create nothing.
var readCommands = [][]string{
	{"org", "list"},
	{"staff", "list"},
	{"customers", "list"},
	{"customers", "list", "--json"},
	{"customers", "export"},
	{"outbox", "list"},
	{"outbox", "list", "--json"},
	{"backup", "copy.db"},
}

// A read command run where there is no database (cron in another folder, a
// mistyped --data-dir) creates nothing, exits 1 and says where it looked,
// which rule chose that place, and what creates a database.
func TestReadCommandsCreateNoDatabase(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		dir      string // where it looks
		rule     string // the rule it names
		mustMiss string // the directory that must still not exist
	}{
		{"flag", map[string]string{}, []string{"--data-dir", filepath.Join(root, "flag")}, filepath.Join(root, "flag"), "chosen by --data-dir", filepath.Join(root, "flag")},
		{"env", map[string]string{"FRONTDESK_DATA_DIR": filepath.Join(root, "env")}, nil, filepath.Join(root, "env"), "chosen by FRONTDESK_DATA_DIR", filepath.Join(root, "env")},
		{"systemd", map[string]string{"STATE_DIRECTORY": filepath.Join(root, "state") + ":" + filepath.Join(root, "other"), "HOME": root}, nil, filepath.Join(root, "state"), "chosen by systemd's STATE_DIRECTORY", filepath.Join(root, "state")},
		{"xdg", map[string]string{"XDG_DATA_HOME": filepath.Join(root, "xdg"), "HOME": root}, nil, filepath.Join(root, "xdg", "frontdesk"), "chosen by the per-user default $XDG_DATA_HOME/frontdesk", filepath.Join(root, "xdg")},
		{"home", map[string]string{"HOME": filepath.Join(root, "home")}, nil, filepath.Join(root, "home", ".local", "share", "frontdesk"), "chosen by the per-user default ~/.local/share/frontdesk", filepath.Join(root, "home")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["FRONTDESK_EMAIL_DNS"] = "off"
			for _, cmd := range readCommands {
				args := append(append([]string(nil), cmd...), tc.args...)
				if cmd[0] == "backup" {
					args[1] = filepath.Join(root, "copy.db")
				}
				code, out, errs := runEnv(t, tc.env, args...)
				db := filepath.Join(tc.dir, "frontdesk.db")
				for _, want := range []string{"no database at " + db, tc.rule, "frontdesk demo", "frontdesk org add"} {
					if code != 1 || !strings.Contains(errs, want) {
						t.Errorf("frontdesk %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, out, errs, want)
					}
				}
				if _, err := os.Stat(tc.mustMiss); !os.IsNotExist(err) {
					t.Fatalf("frontdesk %s created %s (%v)", strings.Join(args, " "), tc.mustMiss, files(t, tc.mustMiss))
				}
				if _, err := os.Stat(filepath.Join(root, "copy.db")); !os.IsNotExist(err) {
					t.Fatalf("backup without a database wrote a copy")
				}
			}
		})
	}

	// An existing, empty data directory stays empty: no database, no -wal,
	// no key file.
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o700)
	for _, cmd := range readCommands {
		args := append(append([]string(nil), cmd...), "--data-dir", empty)
		if cmd[0] == "backup" {
			args[1] = filepath.Join(root, "copy.db")
		}
		if code, _, errs := runEnv(t, map[string]string{}, args...); code != 1 || !strings.Contains(errs, "no database at") {
			t.Errorf("frontdesk %s in an empty directory: exit %d, %q", strings.Join(args, " "), code, errs)
		}
	}
	if got := files(t, empty); len(got) != 0 {
		t.Errorf("read commands left %v in an empty data directory", got)
	}

	// What the message says creates one does, and then they read it.
	c := newCLI(t)
	c.ok("org", "add", "--name", "Harbor Yoga")
	for _, cmd := range readCommands {
		args := append([]string(nil), cmd...)
		if cmd[0] == "backup" {
			args[1] = filepath.Join(t.TempDir(), "copy.db")
		}
		c.ok(args...)
	}
}

// The data directory: --data-dir, else FRONTDESK_DATA_DIR, else systemd's
// STATE_DIRECTORY (its first path), else $XDG_DATA_HOME/frontdesk, else
// ~/.local/share/frontdesk. The command that creates the database says
// where, once; a read command then finds it under the same rule.
func TestDataDirectoryRules(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
		rule string
	}{
		{"flag wins", map[string]string{"FRONTDESK_DATA_DIR": filepath.Join(root, "a", "env"), "HOME": root}, []string{"--data-dir", filepath.Join(root, "a", "flag")}, filepath.Join(root, "a", "flag"), "chosen by --data-dir"},
		{"env over systemd", map[string]string{"FRONTDESK_DATA_DIR": filepath.Join(root, "b", "env"), "STATE_DIRECTORY": filepath.Join(root, "b", "state"), "HOME": root}, nil, filepath.Join(root, "b", "env"), "chosen by FRONTDESK_DATA_DIR"},
		{"systemd's first", map[string]string{"STATE_DIRECTORY": filepath.Join(root, "c", "state") + ":" + filepath.Join(root, "c", "logs"), "XDG_DATA_HOME": filepath.Join(root, "c", "xdg"), "HOME": root}, nil, filepath.Join(root, "c", "state"), "chosen by systemd's STATE_DIRECTORY"},
		{"xdg", map[string]string{"XDG_DATA_HOME": filepath.Join(root, "d", "xdg"), "HOME": filepath.Join(root, "d", "home")}, nil, filepath.Join(root, "d", "xdg", "frontdesk"), "chosen by the per-user default $XDG_DATA_HOME/frontdesk"},
		// The XDG spec: a relative path is invalid and ignored.
		{"relative xdg", map[string]string{"XDG_DATA_HOME": "relative/xdg", "HOME": filepath.Join(root, "e", "home")}, nil, filepath.Join(root, "e", "home", ".local", "share", "frontdesk"), "chosen by the per-user default ~/.local/share/frontdesk"},
		{"home", map[string]string{"HOME": filepath.Join(root, "f", "home")}, nil, filepath.Join(root, "f", "home", ".local", "share", "frontdesk"), "chosen by the per-user default ~/.local/share/frontdesk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"org", "add", "--name", "Harbor Yoga"}, tc.args...)
			code, out, errs := runEnv(t, tc.env, args...)
			db := filepath.Join(tc.want, "frontdesk.db")
			if code != 0 || !strings.Contains(errs, db) || !strings.Contains(errs, tc.rule) {
				t.Fatalf("first org add: exit %d, stdout %q, stderr %q; want the new database %s and the rule %q on stderr", code, out, errs, db, tc.rule)
			}
			if st, err := os.Stat(tc.want); err != nil || st.Mode().Perm() != 0o700 {
				t.Fatalf("data directory %s: %v", tc.want, err)
			}
			if _, err := os.Stat(db); err != nil {
				t.Fatal(err)
			}
			// Said once: the next command finds the database quietly.
			code, out, errs = runEnv(t, tc.env, append([]string{"org", "list"}, tc.args...)...)
			if code != 0 || !strings.Contains(out, "harbor-yoga") || errs != "" {
				t.Errorf("org list afterwards: exit %d, stdout %q, stderr %q", code, out, errs)
			}
		})
	}
	if code, _, errs := runEnv(t, map[string]string{}, "org", "list"); code != 2 || !strings.Contains(errs, "--data-dir") {
		t.Errorf("no HOME and no data directory: exit %d, %q", code, errs)
	}
	if code, _, errs := runEnv(t, map[string]string{"HOME": root}, "org", "list", "--data-dir", ""); code != 2 || !strings.Contains(errs, "--data-dir is empty") {
		t.Errorf("--data-dir \"\": exit %d, %q", code, errs)
	}
}

// Earlier versions kept their data in ./frontdesk-data: run from that
// folder, a command that finds no database under the new default points at
// the old one.
func TestOldDataDirectoryIsPointedAt(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	home := filepath.Join(work, "home")
	if code, _, errs := runEnv(t, map[string]string{"FRONTDESK_DATA_DIR": "frontdesk-data"}, "org", "add", "--name", "Harbor Yoga"); code != 0 {
		t.Fatalf("org add: %d %q", code, errs)
	}
	code, _, errs := runEnv(t, map[string]string{"HOME": home}, "org", "list")
	if code != 1 || !strings.Contains(errs, "--data-dir frontdesk-data") {
		t.Errorf("org list beside an old ./frontdesk-data: exit %d, %q", code, errs)
	}
	code, _, errs = runEnv(t, map[string]string{"HOME": home}, "org", "add", "--name", "Summit Gym")
	if code != 0 || !strings.Contains(errs, "--data-dir frontdesk-data") {
		t.Errorf("a new database beside an old ./frontdesk-data: exit %d, %q", code, errs)
	}
}

// Commands that need an organization cannot do anything without a
// database either: they say so as the read commands do, and create
// nothing (an empty database would only hide the real one).
func TestCommandsNeedingAnOrganizationCreateNoDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"FRONTDESK_DATA_DIR": dir, "FRONTDESK_EMAIL_DNS": "off"}
	csv := filepath.Join(t.TempDir(), "customers.csv")
	os.WriteFile(csv, []byte("first_name,last_name,email\nAnn,Lee,ann@example.com\n"), 0o600)
	for _, args := range [][]string{
		{"org", "set", "--name", "Harbor"},
		{"staff", "add", "--email", "jo@example.com", "--name", "Jo", "--role", "owner"},
		{"staff", "remove", "jo@example.com"},
		{"staff", "key", "add", "jo@example.com", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ jo@laptop"},
		{"customers", "import", csv},
		{"invite", "ann@example.com"},
		{"invite", "--all"},
		{"outbox", "retry", "1"},
		{"outbox", "rotate-key"},
	} {
		code, _, errs := runEnv(t, env, args...)
		if code != 1 || !strings.Contains(errs, "no database at "+filepath.Join(dir, "frontdesk.db")) || !strings.Contains(errs, "frontdesk org add") {
			t.Errorf("frontdesk %s without a database: exit %d, %q", strings.Join(args, " "), code, errs)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("frontdesk %s created %s: %v", strings.Join(args, " "), dir, files(t, dir))
		}
	}
}
