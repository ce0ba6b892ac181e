package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	bm "github.com/charmbracelet/wish/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"frontdesk/store"
	"frontdesk/tui"
)

// sessionFPS caps how often a session's screen is redrawn. The renderer
// wakes at this rate even when nothing changed, so it is what an idle
// session costs in CPU; 30 keeps typing smooth (a frame within 33 ms).
const sessionFPS = 30

// Why a session ended: a code for the log and, when the server ended it,
// the sentence the person at the terminal reads as it closes.
const (
	endQuit         = "quit"
	endDisconnected = "disconnected"
	endShutdown     = "shutdown"
	endIdle         = "idle"
	endMaxSession   = "max-session"
	endNoTerminal   = "no terminal"
	endUnidentified = "unidentified"
)

const endReasonKey ctxKey = "end-reason"

func setEndReason(sess ssh.Session, code string) { sess.Context().SetValue(endReasonKey, code) }

func endReason(sess ssh.Session) string {
	code, _ := sess.Context().Value(endReasonKey).(string)
	return code
}

// session is one running TUI, as the server sees it: something to close.
type session struct {
	prog        *tea.Program
	fingerprint string // of the key the session proved

	mu         sync.Mutex
	code, text string // set by the first end
}

// end closes the TUI for the reason given (the first reason wins).
func (ss *session) end(code, text string) {
	ss.mu.Lock()
	if ss.code == "" {
		ss.code, ss.text = code, text
	}
	ss.mu.Unlock()
	ss.prog.Quit()
}

func (ss *session) ended() (code, text string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.code, ss.text
}

const shutdownText = "the server is shutting down (a restart or maintenance). Nothing was lost; connect again in a minute."

// tui runs the staff TUI for the session's staff member: one tea.Program on
// the session's input and output, styled by a renderer made for the client's
// terminal, sized and resized by the client's window. Everything it starts
// ends with the session.
func (s *Server) tui(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		staff, org, ok := staffOf(sess)
		if !ok {
			s.unidentified(sess, "the TUI")
			return
		}
		s.runTUI(sess, staff, org)
		next(sess)
	}
}

func (s *Server) runTUI(sess ssh.Session, staff *store.Staff, org *store.Org) {
	pty, winch, _ := sess.Pty()
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()

	// Per session, never lipgloss's default renderer: that one describes the
	// server's terminal, not this client's.
	r := bm.MakeRenderer(sess)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	staffChanged := make(chan struct{}, 1)
	m := tui.New(
		tui.Common{Ctx: ctx, Styles: tui.NewStyles(r), Width: pty.Window.Width, Height: pty.Window.Height, Org: org, Staff: staff,
			StaffChanged: staffChanged},
		s.deps,
	)
	p := tea.NewProgram(m,
		tea.WithInput(activityReader{sess, &last}),
		tea.WithOutput(sess),
		tea.WithAltScreen(),
		tea.WithFPS(sessionFPS),
		// Signals are the server's: SIGINT shuts the server down in order,
		// it is not a key press in every session.
		tea.WithoutSignalHandler(),
	)
	ss := &session{prog: p, fingerprint: gossh.FingerprintSHA256(sess.PublicKey())}
	if !s.register(ss) {
		s.cfg.Metrics.Refused(RefusedShutdown)
		setEndReason(sess, endShutdown)
		fatal(sess, "frontdesk: "+shutdownText)
		return
	}
	defer s.unregister(ss)
	s.cfg.Metrics.SessionStarted()
	defer s.cfg.Metrics.SessionEnded()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.watch(ctx, ss, staff, winch, &last, staffChanged)
	}()
	_, err := p.Run()
	cancel()
	wg.Wait()

	code, text := ss.ended()
	switch {
	case code != "":
	case sess.Context().Err() != nil:
		code = endDisconnected
	case errors.Is(err, tea.ErrProgramPanic):
		code = "panic"
		text = "frontdesk hit an internal error and closed this session; it has been logged. Connect again to go on."
		s.log.Error("tui panic", "staff", staff.Email)
	case err != nil && !errors.Is(err, tea.ErrProgramKilled):
		code = "error"
		s.log.Error("tui failed", "staff", staff.Email, "err", err)
	default:
		code = endQuit
	}
	setEndReason(sess, code)
	if text != "" {
		// After the program has left the alternate screen, so it stays in
		// the client's terminal once the connection closes.
		fmt.Fprintf(sess, "frontdesk: %s\n", text)
	}
	// The exit status goes out before the session counts as finished: a
	// shutdown closes connections as soon as every session has finished.
	_ = sess.Exit(0)
}

// watch relays window resizes to the program and ends it on the idle and
// maximum-session timeouts, when the staff member's access changes, or when
// the client goes away. It returns when ctx ends (the program has stopped,
// or the connection closed).
func (s *Server) watch(ctx context.Context, ss *session, staff *store.Staff, winch <-chan ssh.Window, last *atomic.Int64, staffChanged <-chan struct{}) {
	// Access is checked again the moment staff or their keys change
	// (anywhere: `frontdesk staff remove` in another process; the session's
	// TUI hears it on the change feed), and on a tick besides, in case the
	// feed is not there.
	check := time.NewTicker(s.cfg.AccessCheck)
	defer check.Stop()
	var idle, maxed <-chan time.Time
	var idleTimer *time.Timer
	if d := s.cfg.IdleTimeout; d > 0 {
		idleTimer = time.NewTimer(d)
		defer idleTimer.Stop()
		idle = idleTimer.C
	}
	if d := s.cfg.MaxSession; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		maxed = t.C
	}
	for {
		select {
		case <-ctx.Done():
			ss.prog.Quit()
			return
		case w, ok := <-winch:
			if !ok {
				winch = nil
				continue
			}
			ss.prog.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		case <-idle:
			quiet := time.Since(time.Unix(0, last.Load()))
			if quiet < s.cfg.IdleTimeout {
				idleTimer.Reset(s.cfg.IdleTimeout - quiet)
				continue
			}
			ss.end(endIdle, fmt.Sprintf("closed after %s without a key press. Connect again to go on.", s.cfg.IdleTimeout))
		case <-maxed:
			ss.end(endMaxSession, fmt.Sprintf("sessions last at most %s. Connect again to go on.", s.cfg.MaxSession))
		case <-staffChanged:
			s.checkAccess(ctx, ss, staff)
		case <-check.C:
			s.checkAccess(ctx, ss, staff)
		}
	}
}

// checkAccess ends the session when its key or staff member is no longer
// registered, or the staff member's role changed (store.Staff.AccessLost
// says why a role change ends it rather than re-scoping it), saying which;
// the log's end reason is the loss ("key removed").
func (s *Server) checkAccess(ctx context.Context, ss *session, staff *store.Staff) {
	now, err := s.staff.StaffByFingerprint(ctx, ss.fingerprint)
	keyKept := err == nil && now.ID == staff.ID
	if !keyKept && (err == nil || store.ErrorCode(err) == store.ENOTFOUND) {
		// The key is gone (or someone else's): is the person too?
		now, err = s.staff.StaffByID(ctx, staff.ID)
	}
	loss, why := staff.AccessLost(now, err, keyKept)
	if loss != store.AccessKept {
		ss.end(string(loss), "your access changed: "+why+". "+accessNext[loss])
	}
}

// accessNext is what the person whose session ended can do, by loss.
var accessNext = map[store.AccessLoss]string{
	store.AccessRemoved: "Ask an owner if this is a mistake.",
	store.AccessKeyGone: "Connect with another key registered to you, or ask an owner to register one (`frontdesk staff key add`).",
	store.AccessRole:    "Connect again to go on with what your new role allows.",
}

// activityReader notes when the client last sent anything: the idle timeout
// counts from the last key press, not from the last screen update.
type activityReader struct {
	r    io.Reader
	last *atomic.Int64
}

func (a activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}
