package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// raceBuild is set when the tests run with -race (race_test.go), so that a
// binary the tests build shares the compiled packages of the test build.
var raceBuild bool

// --version and `frontdesk version` print the same lines, and they work
// whatever the configuration (that is when one asks). This test binary
// has no VCS information, which they say rather than fail.
func TestVersionThroughRun(t *testing.T) {
	c := newCLI(t)
	c.env["FRONTDESK_SMTP_TLS"] = "carrier-pigeon" // refused by every other command
	code, flag, errs := c.run("--version")
	if code != 0 || errs != "" {
		t.Fatalf("--version: exit %d, stderr %q", code, errs)
	}
	code, cmd, errs := c.run("version")
	if code != 0 || errs != "" || cmd != flag {
		t.Fatalf("version: exit %d, stderr %q; stdout\n%s\nwant the same as --version:\n%s", code, errs, cmd, flag)
	}
	want := "revision   unknown (built without VCS information)\n"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				want = "revision   " + s.Value
			}
		}
	}
	if !strings.HasPrefix(flag, "frontdesk ") || !strings.Contains(flag, want) || !strings.Contains(flag, "built      unknown\n") || !strings.Contains(flag, "go         go1.") {
		t.Errorf("--version printed:\n%s", flag)
	}
	if code, _, errs := c.run("version", "extra"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("version extra: exit %d, %q", code, errs)
	}
	if got := files(t, c.dir); got != nil {
		t.Errorf("--version left files: %v", got)
	}
}

// A real binary, built with VCS stamping from a git copy of this source at
// a known commit, names that commit, its time, the build time given at
// link time and, once the tree has changes, says so.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice (about 20 s)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git command")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	src := filepath.Join(t.TempDir(), "frontdesk")
	copyTree(t, root, src)
	if _, err := os.Lstat(filepath.Join(src, ".git")); err == nil {
		t.Fatal("the copy holds a .git")
	}

	const committed = "2026-03-04T05:06:07Z"
	run := func(dir string, env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// Every git command names the copy's own repository: none may find
	// the one this source is checked out in (a worktree's .git is a file
	// that would lead git there).
	gitEnv := []string{"GIT_DIR=" + filepath.Join(src, ".git"), "GIT_WORK_TREE=" + src, "GIT_CEILING_DIRECTORIES=" + filepath.Dir(src),
		"GIT_AUTHOR_DATE=" + committed, "GIT_COMMITTER_DATE=" + committed, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	git := func(args ...string) string {
		return run(src, gitEnv, "git", append([]string{"-c", "user.name=frontdesk test", "-c", "user.email=test@frontdesk.example", "-c", "commit.gpgsign=false"}, args...)...)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "a release")
	rev := strings.TrimSpace(git("rev-parse", "HEAD"))

	const built = "2026-03-05T00:00:00Z"
	bin := filepath.Join(t.TempDir(), "frontdesk")
	build := func() string {
		t.Helper()
		args := []string{"build", "-buildvcs=true", "-ldflags", "-X main.buildTime=" + built, "-o", bin}
		if raceBuild {
			args = append(args, "-race")
		}
		run(src, nil, goBin, append(args, "./cmd/frontdesk")...)
		return run(src, nil, bin, "--version")
	}

	out := build()
	pseudo := regexp.MustCompile(`^frontdesk v0\.0\.0-20260304050607-` + rev[:12] + "\n")
	for _, want := range []string{"revision   " + rev + ", unmodified\n", "committed  " + committed + "\n", "built      " + built + "\n"} {
		if !strings.Contains(out, want) || !pseudo.MatchString(out) {
			t.Errorf("--version of a clean build:\n%s\nwant %q and a version naming the commit", out, want)
		}
	}
	if got := run(src, nil, bin, "version"); got != out {
		t.Errorf("version:\n%s\n--version:\n%s", got, out)
	}
	// The process's exit status, not only Run's: a mistake is 2.
	cmd := exec.Command(bin, "bogus")
	cmd.Env = append(os.Environ(), "FRONTDESK_DATA_DIR="+t.TempDir())
	if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("frontdesk bogus: %v, want exit status 2", err)
	}

	os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644)
	out = build()
	if !strings.Contains(out, "revision   "+rev+", with uncommitted changes\n") || !strings.Contains(out, "+dirty\n") {
		t.Errorf("--version of a build with changes:\n%s", out)
	}
}

// copyTree copies the source tree: regular files, without hidden files
// and directories (.git, a directory or a worktree's file) or data
// directories.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		hidden := rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "frontdesk-data")
		if d.IsDir() {
			if hidden {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if hidden || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
