package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"frontdesk/store/storetest"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"frontdesk/store"
	"frontdesk/store/demo"
)

// The SSH benchmarks measure the server alone: it runs in the benchmark's
// process, and the clients in a child process (this test binary again, see
// TestMain), so the memory and goroutines counted are the server's.

func TestMain(m *testing.M) {
	if os.Getenv("FRONTDESK_SSH_LOAD") != "" {
		os.Exit(sshLoad())
	}
	os.Exit(storetest.Main(m))
}

// benchServer starts `serve` in-process on a demo database with a
// registered admin key, written to a file for the load process.
func benchServer(b *testing.B) (s *Server, keyFile, dataDir string, stop func()) {
	b.Helper()
	dataDir = b.TempDir()
	app := &App{Config: Config{DataDir: dataDir, BaseURL: "http://localhost:8080", SMTPPort: 587, SMTPTLS: "starttls", MailFrom: "frontdesk@localhost"}, Stderr: io.Discard}
	if err := app.Open(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := demo.Generate(ctx, app.DB, demo.Options{Customers: 500, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	admin, err := app.DB.StaffByEmail(ctx, demoAdmin)
	if err != nil {
		b.Fatal(err)
	}
	if err := app.DB.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.AddStaffKey(ctx, admin.ID, string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	block, _ := gossh.MarshalPrivateKey(priv, "")
	keyFile = filepath.Join(b.TempDir(), "id_ed25519")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)

	cfg := ServeConfig{SSHAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", ShutdownTimeout: 30 * time.Second, ConnBurst: 100000, ConnEvery: time.Millisecond,
		PreAuthPerAddr: 100000}
	s, err = NewServer(app, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		s.Run(rctx)
		close(done)
	}()
	return s, keyFile, dataDir, func() {
		cancel()
		<-done
		app.Close()
	}
}

// loadProcess starts the client process: n sessions in the given mode. It
// returns once every session shows the roster. finish closes its stdin and
// returns what it printed after that.
func loadProcess(b *testing.B, s *Server, keyFile, dataDir, mode string, n int) (out *bufio.Scanner, finish func() []string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"FRONTDESK_SSH_LOAD="+mode, "FRONTDESK_SSH_ADDR="+s.SSHAddr(), "FRONTDESK_SSH_KEY="+keyFile,
		"FRONTDESK_SSH_DATA="+dataDir, "FRONTDESK_SSH_N="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out = bufio.NewScanner(stdout)
	if !out.Scan() || out.Text() != "ready" {
		b.Fatalf("the load process did not get its sessions: %q", out.Text())
	}
	return out, func() []string {
		stdin.Close()
		var rest []string
		for out.Scan() {
			rest = append(rest, out.Text())
		}
		cmd.Wait()
		return rest
	}
}

// BenchmarkIdleSessions holds 500 idle TUI sessions and reports what each
// costs the server: Go heap and stacks, goroutines, and the CPU the server
// spends while they sit idle. With changes=1/s, another process changes a
// customer on every session's first page once a second (the live screens
// of issue 12: each session redraws the row), and the client process
// reports the share of sessions that showed each change within a second.
// Run with -benchtime=1x.
func BenchmarkIdleSessions(b *testing.B) {
	for _, mode := range []string{"idle", "changing"} {
		name := map[string]string{"idle": "changes=0/s", "changing": "changes=1/s"}[mode]
		b.Run(name, func(b *testing.B) { idleSessions(b, mode) })
	}
}

func idleSessions(b *testing.B, mode string) {
	const n = 500
	s, keyFile, dataDir, stop := benchServer(b)
	defer stop()
	before, gBefore := serverMemory()
	for b.Loop() {
		_, finish := loadProcess(b, s, keyFile, dataDir, mode, n)
		after, gAfter := serverMemory()
		var r0, r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		window := 5 * time.Second
		time.Sleep(window) // measuring the idle cost takes idle time
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
		b.ReportMetric(float64(after-before)/n/1024, "KiB/session")
		b.ReportMetric(float64(gAfter-gBefore)/n, "goroutines/session")
		b.ReportMetric(100*cpu.Seconds()/window.Seconds(), "%cpu-500")
		rest := finish()
		if mode == "changing" {
			var seen, all int
			if len(rest) > 0 {
				fmt.Sscanf(rest[0], "seen=%d/%d", &seen, &all)
			}
			if all == 0 {
				b.Fatalf("the load process reports %q", rest)
			}
			b.ReportMetric(100*float64(seen)/float64(all), "%shown-within-1s")
		}
	}
}

// BenchmarkKeystrokeToFrame has 200 sessions each press keys and reports how
// long the server takes from a key press to the next frame reaching the
// client. Run with -benchtime=1x.
func BenchmarkKeystrokeToFrame(b *testing.B) {
	for _, n := range []int{1, 200} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { keystrokeToFrame(b, n) })
	}
}

func keystrokeToFrame(b *testing.B, n int) {
	s, keyFile, dataDir, stop := benchServer(b)
	defer stop()
	for b.Loop() {
		out, finish := loadProcess(b, s, keyFile, dataDir, "keys", n)
		if !out.Scan() {
			b.Fatal("no latency report")
		}
		for _, f := range strings.Fields(out.Text()) {
			name, v, _ := strings.Cut(f, "=")
			ms, _ := strconv.ParseFloat(v, 64)
			b.ReportMetric(ms, name+"-ms")
		}
		finish()
	}
}

// serverMemory is the Go heap and goroutine stacks in use, after a GC.
func serverMemory() (bytes uint64, goroutines int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
}

// sshLoad is the client process: it opens FRONTDESK_SSH_N sessions, says
// "ready" when each shows the roster, then either idles until its stdin
// closes ("idle"), changes the first customer's email once a second until
// then and prints how many sessions showed each change within a second
// ("changing"), or presses 20 keys in every session at once, at random
// moments, and prints latency percentiles ("keys").
func sshLoad() int {
	n, _ := strconv.Atoi(os.Getenv("FRONTDESK_SSH_N"))
	pemKey, err := os.ReadFile(os.Getenv("FRONTDESK_SSH_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	signer, err := gossh.ParsePrivateKey(pemKey)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	t := &loadT{}
	terms := make([]*sshTerm, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			client, err := dialSSH(t, os.Getenv("FRONTDESK_SSH_ADDR"), os.Getenv("FRONTDESK_SSH_DATA"), gossh.PublicKeys(signer))
			if err != nil {
				t.Fatalf("ssh: %v", err)
			}
			tm := openTerm(t, client, 100, 30)
			tm.wait("Sam Rivera", " of ")
			terms[i] = tm
		}()
	}
	wg.Wait()
	if t.failed() {
		return 1
	}
	fmt.Println("ready")
	if os.Getenv("FRONTDESK_SSH_LOAD") == "keys" {
		const presses = 20
		lat := make([][]time.Duration, n)
		for i, tm := range terms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range presses {
					key := "j"
					if k%2 == 1 {
						key = "k"
					}
					// A person's key presses fall anywhere in the
					// renderer's frame; pressing right after a frame
					// would always wait a whole one.
					time.Sleep(time.Duration(mrand.Int64N(int64(40 * time.Millisecond))))
					from := tm.out.Len()
					start := time.Now()
					tm.in.Write([]byte(key))
					if _, ok := tm.out.waitFor(from, 10*time.Second, func(s string) bool { return len(s) > 0 }); !ok {
						t.Fatalf("no frame after a key press")
						return
					}
					lat[i] = append(lat[i], time.Since(start))
				}
			}()
		}
		wg.Wait()
		all := slices.Concat(lat...)
		slices.Sort(all)
		pct := func(p float64) float64 {
			return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
		}
		fmt.Printf("p50=%.2f p95=%.2f p99=%.2f\n", pct(0.50), pct(0.95), pct(0.99))
	}
	if os.Getenv("FRONTDESK_SSH_LOAD") == "changing" {
		seen, all, err := changeEverySecond(terms)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("seen=%d/%d\n", seen, all)
		return 0
	}
	io.Copy(io.Discard, os.Stdin)
	if t.failed() {
		return 1
	}
	return 0
}

// changeEverySecond is another process changing the first customer of the
// roster once a second, as a colleague at another desk would, until stdin
// closes; it counts the sessions that drew each change within a second.
func changeEverySecond(terms []*sshTerm) (seen, all int, err error) {
	db, err := store.Open(filepath.Join(os.Getenv("FRONTDESK_SSH_DATA"), "frontdesk.db"))
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	ctx := context.Background()
	org, err := db.OrgBySlug(ctx, "harbor-yoga")
	if err != nil {
		return 0, 0, err
	}
	rows, err := db.RosterPage(ctx, org.ID, store.RosterQuery{Limit: 1})
	if err != nil || len(rows) == 0 {
		return 0, 0, fmt.Errorf("no first customer: %v", err)
	}
	stdinClosed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stdinClosed:
			return seen, all, nil
		case <-tick.C:
		}
		email := fmt.Sprintf("live-%d@example.com", i)
		from := make([]int, len(terms))
		for j, tm := range terms {
			from[j] = tm.out.Len()
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.SetCustomerEmail(ctx, org.ID, rows[0].ID, email) }); err != nil {
			return 0, 0, err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for j, tm := range terms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok := tm.out.waitFor(from[j], time.Second, func(s string) bool { return strings.Contains(ansi.Strip(s), email) })
				mu.Lock()
				all++
				if ok {
					seen++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
}

// loadT lets the load process use the tests' SSH helpers outside a test.
type loadT struct {
	testing.TB
	mu  sync.Mutex
	bad bool
}

func (t *loadT) Helper()                   {}
func (t *loadT) Cleanup(func())            {}
func (t *loadT) Fatal(args ...any)         { t.fail(fmt.Sprint(args...)) }
func (t *loadT) Fatalf(f string, a ...any) { t.fail(fmt.Sprintf(f, a...)) }
func (t *loadT) fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	t.mu.Lock()
	t.bad = true
	t.mu.Unlock()
	runtime.Goexit()
}
func (t *loadT) failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bad
}
