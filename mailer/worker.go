package mailer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"frontdesk/store"
)

// Retry schedule for temporary failures: 10 s after the first failed attempt,
// doubling, at most an hour apart, for a day; then the message fails.
const (
	RetryBase   = 10 * time.Second
	RetryCap    = time.Hour
	RetryWindow = 24 * time.Hour
)

// Defaults of the Worker's zero fields.
const (
	DefaultLease = 2 * time.Minute
	DefaultBatch = 50
	DefaultPoll  = 5 * time.Second
)

// Backoff is how long to wait after the attempts-th failed attempt.
func Backoff(attempts int) time.Duration {
	d := RetryBase
	for i := 1; i < attempts && d < RetryCap; i++ {
		d *= 2
	}
	return min(d, RetryCap)
}

// Worker delivers the outbox.
//
// Exactly once, almost. Messages are leased (store.LeaseDue) in a write
// transaction, so two workers, in one process or in two processes on one
// database, never hold the same message; each result is recorded only by the
// lease holder; a worker that dies leaves leases that expire after Lease, and
// the messages are then picked up again. Leases are extended during a long
// batch so they never run out under a live worker.
//
// The one window for a duplicate: the server has accepted a message (its 250
// reply to the end of DATA) but the acceptance is not recorded. Either the
// process died between that reply and MarkSent's commit (results are
// committed while the next message is on the wire, so at most two messages
// are ever in this state), or the database refused the write after retries,
// or the connection broke (or was cut, see below) after the server took the
// message but before its 250 reached us. The message is then still queued
// and goes again once its lease expires: delivered twice rather than lost.
// SMTP cannot close this window (RFC 1047). The message keeps its Message-ID
// across attempts (assigned before the first), so the copies are identical
// and mail clients that fold duplicates by Message-ID show one.
//
// Time. Every step of talking to the server is bounded by the transport's
// timeout and by the context (see Conn): a server that never answers costs
// an attempt that long, recorded as a temporary failure that says so ("the
// mail server did not answer within 30s"), with the next attempt by the
// usual backoff. A context whose deadline passes mid-attempt (the desk's
// first-attempt window) is recorded the same way, with the time it gave. A
// context cancelled mid-attempt (shutdown, Ctrl-C, a session that ends) cuts
// the message where it is, before the server's final reply, so the server
// never takes it whole; the message, and every other message of the batch
// not yet sent, is given back untried: still queued, due at once, no attempt
// counted. No attempt outlives its lease either: it is cut before the lease
// runs out, so another worker never takes over a message still on the wire.
//
// No write transaction is held while talking to the server: leasing,
// extending and each result are short transactions of their own.
type Worker struct {
	DB        *store.DB
	Transport Transport
	// Owner names this process in leases; unique per process. Empty: the
	// host name, the process id and a random suffix. Each batch leases under
	// Owner plus a sequence number, so two batches of one worker (Run and a
	// Deliver) are told apart too.
	Owner string
	// Lease: how long a batch may go unextended before others take over.
	// Default: DefaultLease, or four times the transport's timeout when
	// that is longer, so a slow server is given its whole timeout.
	Lease  time.Duration
	Batch  int           // messages per batch (per connection); default DefaultBatch
	Poll   time.Duration // Run's wait between looks at the queue; default DefaultPoll
	Logger *slog.Logger
	// Metrics hears every attempt's result; nil: nobody.
	Metrics Metrics

	once sync.Once
	wake chan struct{}
	seq  atomic.Int64
}

// Result counts what one RunOnce did.
type Result struct {
	Leased  int // messages taken
	Sent    int
	Retry   int // temporary failures, queued again
	Failed  int // permanent failures (or out of retries)
	Skipped int // leases given back untried (shutdown) or lost
	// Cancelled: leased but not sent because the invite they carry was
	// used, revoked or expired meanwhile (marked failed with the reason).
	Cancelled int
}

// Outcome is what became of one message Deliver was asked to send.
type Outcome struct {
	ID          int64
	Status      string    // store.OutboxSent, store.OutboxQueued (will be retried, or another worker has it) or store.OutboxFailed
	Reply       string    // the server's reply when sent
	Err         string    // why not sent, in the server's words where it gave any
	NextAttempt time.Time // when queued: the next attempt
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Owner == "" {
			host, _ := os.Hostname()
			b := make([]byte, 4)
			rand.Read(b)
			w.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
		}
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
	})
}

func (w *Worker) lease() time.Duration {
	if w.Lease != 0 {
		return w.Lease
	}
	if t, ok := w.Transport.(interface{ stepTimeout() time.Duration }); ok {
		return max(DefaultLease, 4*t.stepTimeout())
	}
	return DefaultLease
}

func (w *Worker) token() string { return fmt.Sprintf("%s/%d", w.Owner, w.seq.Add(1)) }

// Wake makes Run look at the queue now instead of at its next poll; call it
// after queueing a message. It never blocks.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers due messages until ctx is done: a batch, then a wait for the
// poll interval or Wake. A batch under way when ctx ends stops at once: the
// message in flight is cut before the server takes it and, with the rest of
// the batch, given back (a message the server had already accepted is
// recorded as sent).
func (w *Worker) Run(ctx context.Context) {
	w.init()
	poll := orDefault(w.Poll, DefaultPoll)
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		res, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Logger.Error("outbox", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		// A full batch means more may be due: go on without waiting.
		if err == nil && res.Leased >= orDefault(w.Batch, DefaultBatch) {
			continue
		}
		t.Reset(poll)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// RunOnce leases one batch of due messages, sends them over one connection
// and records each result.
func (w *Worker) RunOnce(ctx context.Context) (Result, error) {
	w.init()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	tok := w.token()
	msgs, cancelled, err := w.leaseAndPrepare(ctx, tok, func(tx *store.Tx) ([]*store.OutboxMessage, error) {
		return tx.LeaseDue(ctx, tok, w.lease(), orDefault(w.Batch, DefaultBatch))
	})
	res := Result{Leased: len(msgs) + cancelled, Cancelled: cancelled}
	if err != nil || len(msgs) == 0 {
		return res, err
	}
	for _, o := range w.deliver(ctx, tok, msgs) {
		switch o.Status {
		case store.OutboxSent:
			res.Sent++
		case store.OutboxFailed:
			res.Failed++
		case store.OutboxQueued:
			if o.NextAttempt.IsZero() {
				res.Skipped++
			} else {
				res.Retry++
			}
		}
	}
	return res, nil
}

// Deliver sends the given messages now, whether due or not (a staff member
// just queued them), and says what became of each, in the order of ids. A
// message that is not queued or that another worker holds is not sent again:
// its Outcome reports its current state.
func (w *Worker) Deliver(ctx context.Context, ids ...int64) ([]Outcome, error) {
	w.init()
	tok := w.token()
	msgs, _, err := w.leaseAndPrepare(ctx, tok, func(tx *store.Tx) ([]*store.OutboxMessage, error) {
		return tx.LeaseIDs(ctx, tok, w.lease(), ids)
	})
	if err != nil {
		return nil, err
	}
	got := map[int64]Outcome{}
	for _, o := range w.deliver(ctx, tok, msgs) {
		got[o.ID] = o
	}
	out := make([]Outcome, 0, len(ids))
	for _, id := range ids {
		if o, ok := got[id]; ok {
			out = append(out, o)
			continue
		}
		out = append(out, w.currentOutcome(ctx, id))
	}
	return out, nil
}

// currentOutcome describes a message Deliver did not get to send.
func (w *Worker) currentOutcome(ctx context.Context, id int64) Outcome {
	o := Outcome{ID: id}
	m, err := w.DB.OutboxMessageByID(ctx, id)
	if err != nil {
		o.Err = store.ErrorMessage(err)
		return o
	}
	o.Status, o.Reply, o.Err = m.Status, m.Reply, m.LastError
	if m.Status == store.OutboxQueued {
		o.NextAttempt = m.NextAttemptAt
		if m.LeaseUntil.After(w.DB.Now()) {
			o.Err = "being delivered by another frontdesk process"
			o.NextAttempt = time.Time{}
		}
	}
	return o
}

// leaseAndPrepare runs the lease in one write transaction together with the
// housekeeping that must precede a send: leased messages whose invite died
// are cancelled (and not returned), and every other one gets its Message-ID
// fixed before its first attempt.
func (w *Worker) leaseAndPrepare(ctx context.Context, tok string, lease func(*store.Tx) ([]*store.OutboxMessage, error)) ([]*store.OutboxMessage, int, error) {
	domain := "localhost"
	if s, ok := w.Transport.(sender); ok {
		if at := strings.LastIndexByte(s.sender(), '@'); at >= 0 {
			domain = s.sender()[at+1:]
		}
	}
	var msgs []*store.OutboxMessage
	var cancelled []int64
	err := w.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if msgs, err = lease(tx); err != nil || len(msgs) == 0 {
			return err
		}
		leased := make([]int64, len(msgs))
		for i, m := range msgs {
			leased[i] = m.ID
		}
		if cancelled, err = tx.CancelDeadMessages(ctx, tok, leased); err != nil {
			return err
		}
		if len(cancelled) > 0 {
			dead := make(map[int64]bool, len(cancelled))
			for _, id := range cancelled {
				dead[id] = true
			}
			live := msgs[:0]
			for _, m := range msgs {
				if !dead[m.ID] {
					live = append(live, m)
				}
			}
			msgs = live
		}
		var fresh []int64
		for _, m := range msgs {
			if m.MessageID == "" {
				fresh = append(fresh, m.ID)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		assigned, err := tx.AssignMessageIDs(ctx, fresh, domain)
		for _, m := range msgs {
			if id, ok := assigned[m.ID]; ok {
				m.MessageID = id
			}
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("leasing outbox messages: %w", err)
	}
	for _, id := range cancelled {
		w.Logger.Info("outbox message not sent: its link no longer works", "outbox_id", id)
	}
	return msgs, len(cancelled), nil
}

// attempt is the result of one send, on its way to the recorder.
type attempt struct {
	m     *store.OutboxMessage
	reply string
	err   error
}

// deliver sends leased messages over one connection (reopened if it breaks)
// and records each result, returning the outcomes in the order of msgs.
//
// Recording runs in a goroutine of its own, so that committing message i's
// result overlaps with sending message i+1: the database and the network
// take turns instead of waiting for each other, which roughly doubles a
// batch's throughput. The hand-off is unbuffered, so the recorder is never
// more than one message behind: at any moment at most two accepted messages
// are unrecorded (see Worker).
//
// Results are recorded with a context that outlives ctx: a message the server
// accepted must be recorded even while shutting down, or it would be sent
// again.
func (w *Worker) deliver(ctx context.Context, tok string, msgs []*store.OutboxMessage) []Outcome {
	rctx := context.WithoutCancel(ctx)
	byID := make(map[int64]Outcome, len(msgs))
	var mu sync.Mutex
	put := func(os ...Outcome) {
		mu.Lock()
		for _, o := range os {
			byID[o.ID] = o
		}
		mu.Unlock()
	}
	attempts := make(chan attempt)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for a := range attempts {
			put(w.record(rctx, tok, a.m, a.reply, a.err))
		}
	}()
	w.sendAll(ctx, rctx, tok, msgs, attempts, put)
	close(attempts)
	<-recorded
	out := make([]Outcome, len(msgs))
	for i, m := range msgs {
		out[i] = byID[m.ID]
	}
	return out
}

// sendAll is deliver's sending side: it hands every attempt to the recorder
// and reports messages it did not try through put.
func (w *Worker) sendAll(ctx, rctx context.Context, tok string, msgs []*store.OutboxMessage, attempts chan<- attempt, put func(...Outcome)) {
	held := make(map[int64]bool, len(msgs))
	for _, m := range msgs {
		held[m.ID] = true
	}
	leaseEnd := w.DB.Now().Add(w.lease())
	var conn Conn
	used := 0 // messages sent over conn so far
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for i, m := range msgs {
		rest := msgs[i:]
		if ctx.Err() != nil {
			put(w.release(rctx, tok, rest, untried(ctx))...)
			return
		}
		// Keep at least half the lease ahead of every message, so it cannot
		// run out while the message is on the wire.
		if leaseEnd.Sub(w.DB.Now()) < w.lease()/2 {
			ids := make([]int64, len(rest))
			for j, r := range rest {
				ids[j] = r.ID
			}
			var still []int64
			err := w.DB.Tx(rctx, func(tx *store.Tx) error {
				var err error
				still, err = tx.ExtendLeases(rctx, tok, w.lease(), ids)
				return err
			})
			if err != nil {
				w.Logger.Error("outbox: extending leases", "err", err)
				put(w.release(rctx, tok, rest, "could not extend the lease")...)
				return
			}
			leaseEnd = w.DB.Now().Add(w.lease())
			clear(held)
			for _, id := range still {
				held[id] = true
			}
		}
		if !held[m.ID] {
			put(Outcome{ID: m.ID, Status: store.OutboxQueued, Err: "lease lost to another worker"})
			continue
		}
		if m.BodyErr != nil {
			// Its body did not open (this process has the wrong key file, or
			// the row was altered): nothing to send. Retried like a server
			// that is down, since the operator can fix it (start with the
			// right --outbox-key); after the retry window it fails.
			attempts <- attempt{m: m, err: &temporaryError{errors.New(store.ErrorMessage(m.BodyErr))}}
			continue
		}
		// The attempt ends before the lease does (on the real clock; the
		// database's may be a test's), with a tenth of it to spare for
		// recording the result.
		left := leaseEnd.Sub(w.DB.Now()) - w.lease()/10
		actx, cancel := context.WithDeadline(ctx, time.Now().Add(left))
		reply, opened, err := w.attempt(actx, &conn, &used, m)
		cancel()
		if err != nil && interrupted(ctx) {
			// Cut by a shutdown: the server did not take the message
			// (err), so it goes back with the rest, untried.
			put(w.release(rctx, tok, rest, untried(ctx))...)
			return
		}
		if !opened {
			// The server is unreachable or refuses us (a wrong password
			// included: once the operator fixes it the messages should
			// go): every message of the batch waits for the next attempt.
			err = &temporaryError{err}
			for _, r := range rest {
				attempts <- attempt{m: r, err: err}
			}
			return
		}
		attempts <- attempt{m: m, reply: reply, err: err}
	}
}

// attempt sends m over *conn, opening one first if needed; opened is false
// when no connection could be had.
func (w *Worker) attempt(ctx context.Context, conn *Conn, used *int, m *store.OutboxMessage) (reply string, opened bool, err error) {
	if *conn == nil {
		c, err := w.Transport.Open(ctx)
		if err != nil {
			return "", false, err
		}
		*conn, *used = c, 0
	}
	reply, err = (*conn).Send(ctx, m)
	if err != nil && errors.Is(err, errStaleConn) && *used > 0 {
		// The connection went stale between messages; nothing of this
		// one was sent, so try it once more on a fresh connection.
		(*conn).Close()
		*conn = nil
		if c, oerr := w.Transport.Open(ctx); oerr == nil {
			*conn, *used = c, 0
			reply, err = c.Send(ctx, m)
		}
	}
	*used++
	if err != nil && connectionLost(err) && *conn != nil {
		(*conn).Close()
		*conn = nil
	}
	return reply, true, err
}

// interrupted: ctx was cancelled (a shutdown, Ctrl-C, a session that
// ended), as opposed to its deadline passing.
func interrupted(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

// untried is why messages given back were not tried.
func untried(ctx context.Context) string {
	if interrupted(ctx) {
		return "delivery interrupted before it was sent"
	}
	return "not tried: the time for this attempt ran out"
}

// release gives back leases of messages not tried.
func (w *Worker) release(ctx context.Context, tok string, msgs []*store.OutboxMessage, why string) []Outcome {
	ids := make([]int64, len(msgs))
	out := make([]Outcome, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		out[i] = Outcome{ID: m.ID, Status: store.OutboxQueued, Err: why}
	}
	err := w.DB.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ReleaseLeases(ctx, tok, ids)
		return err
	})
	if err != nil {
		// The leases will expire on their own.
		w.Logger.Error("outbox: releasing leases", "err", err)
	}
	return out
}

// record writes the result of one attempt. A commit that meets a busy
// database (another process writing) is tried again: an acceptance that is
// not recorded means the customer gets the email twice.
func (w *Worker) record(ctx context.Context, tok string, m *store.OutboxMessage, reply string, sendErr error) Outcome {
	o := Outcome{ID: m.ID}
	now := w.DB.Now()
	var applied bool
	write := func(tx *store.Tx) error {
		var err error
		switch {
		case sendErr == nil:
			o.Status, o.Reply = store.OutboxSent, reply
			applied, err = tx.MarkSent(ctx, m.ID, tok, reply, m.MessageID)
		case !Temporary(sendErr):
			o.Status, o.Err = store.OutboxFailed, errorText(sendErr)
			applied, err = tx.MarkFailed(ctx, m.ID, tok, o.Err)
		case now.Sub(m.RetryFrom) >= RetryWindow:
			o.Status = store.OutboxFailed
			o.Err = fmt.Sprintf("gave up after %d attempts over %s: %s", m.Attempts+1, fmtWindow(RetryWindow), errorText(sendErr))
			applied, err = tx.MarkFailed(ctx, m.ID, tok, o.Err)
		default:
			o.Status, o.Err = store.OutboxQueued, errorText(sendErr)
			o.NextAttempt = now.Add(Backoff(m.Attempts + 1)).Truncate(time.Second)
			applied, err = tx.MarkRetry(ctx, m.ID, tok, o.Err, o.NextAttempt)
		}
		return err
	}
	var err error
	for try := 0; try < 3; try++ {
		if err = w.DB.Tx(ctx, write); store.ErrorCode(err) != store.ECONFLICT {
			break
		}
	}
	if w.Metrics != nil {
		// What happened at the server, recorded or not.
		w.Metrics.Attempted(o.Status, ReplyClass(reply, sendErr))
	}
	log := w.Logger.With("outbox_id", m.ID, "kind", m.Kind, "attempt", m.Attempts+1)
	switch {
	case err != nil:
		// Not recorded: the lease runs out and the message goes again (sent
		// twice if the server had accepted it; see Worker). The outcome
		// still says what happened at the server.
		log.Error("outbox: recording the result failed", "status", o.Status, "err", err)
		o.Err = strings.TrimSpace(o.Err + " (not recorded: " + err.Error() + "; it may be sent again)")
		o.NextAttempt = time.Time{}
	case !applied:
		log.Warn("outbox: lease lost before the result was recorded", "status", o.Status)
	case o.Status == store.OutboxSent:
		log.Info("mail sent", "reply", o.Reply)
	case o.Status == store.OutboxFailed:
		log.Warn("mail failed", "err", o.Err)
	default:
		log.Warn("mail deferred", "err", o.Err, "next_attempt", o.NextAttempt)
	}
	return o
}

func fmtWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return d.String()
}
