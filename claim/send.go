package claim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"frontdesk/mailer"
	"frontdesk/store"
)

// Sending links is written once, here: the TUI's confirmation and bulk
// invite, the profile's password-reset link and `frontdesk invite` all call
// Send, which issues the links (one transaction per batch, every write
// re-checking the actor) and makes the first delivery attempt, and they only
// put its typed outcomes into words (Words).

// Deliverer sends queued messages now and says what became of each;
// *mailer.Worker is one.
type Deliverer interface {
	Deliver(ctx context.Context, ids ...int64) ([]mailer.Outcome, error)
}

// Result is what became of one customer's link.
type Result int

const (
	Delivered Result = iota // the mail server accepted it
	Queued                  // issued and waiting in the outbox: the worker retries it
	Failed                  // the mail server refused it for good (Why has its words)
	Refused                 // not issued (Refusal says why)
)

// Outcome is what Send did for one customer.
type Outcome struct {
	CustomerID int64
	Result     Result
	Refusal    *Refusal // Refused
	Sent       *Sent    // the link issued: every Result but Refused
	// Reply is the server's answer when Delivered ("250 2.0.0 OK …"); Why
	// says why a Queued link has not gone yet, or in the server's words why
	// a Failed one was refused.
	Reply, Why  string
	NextAttempt time.Time // Queued: when the worker tries again; zero when it is up to the next worker
}

// Phase is the part of a Send under way.
type Phase int

const (
	Issuing    Phase = iota // links and their emails are written
	Delivering              // the first delivery attempt
)

// Progress is reported after each batch of each phase.
type Progress struct {
	Phase       Phase
	Done, Total int
}

// SendOptions tune Send.
type SendOptions struct {
	// Purpose: store.PurposeClaim (the default, invites) or
	// store.PurposeReset (a password-reset link staff send a claimed
	// customer).
	Purpose store.Purpose
	// Window bounds the first delivery attempt: what is not delivered
	// within it stays queued, with the reason, for the outbox worker. Zero
	// leaves the attempt to the transport's own timeouts.
	Window time.Duration
	// Progress, if set, is called after every batch.
	Progress func(Progress)
	// QueueOnly leaves delivery to the outbox worker: no first attempt.
	// For a request whose answer must take the same time whether or not
	// a link went out (the customers' web), and for runs too large to wait
	// for at the desk (a bulk invite of thousands).
	QueueOnly bool

	// renewal: the customer asked for a new claim link from the page of
	// a dead one (RenewLink); the actor is nil and ids holds that
	// customer.
	renewal *renewal
}

// sendBatch is how many links share one write transaction: enough to
// amortize the commit, few enough that other writers (a second desk) wait
// only milliseconds.
const sendBatch = 250

// deliverBatch is how many messages one delivery call sends over one
// connection before progress is reported.
const deliverBatch = 10

// Send issues a link of opt.Purpose to each customer of ids on behalf of
// actor and makes the first delivery attempt, returning one Outcome per id
// in the order of ids. A refusal skips that customer only. An error that is
// not about one customer (the database, the actor losing the right to send,
// ctx ending) stops the issuing; the outcomes so far are returned with it,
// and whatever was issued stays queued for the outbox worker. Delivery
// problems are not errors: they are Queued or Failed outcomes.
func (s *Service) Send(ctx context.Context, actor *store.Staff, ids []int64, opt SendOptions) ([]Outcome, error) {
	if opt.Purpose == "" {
		opt.Purpose = store.PurposeClaim
	}
	out, err := s.issueAll(ctx, actor, ids, opt)
	if err != nil {
		return out, err
	}
	s.deliverAll(ctx, out, opt)
	return out, nil
}

// issueAll writes the links, batch by batch.
func (s *Service) issueAll(ctx context.Context, actor *store.Staff, ids []int64, opt SendOptions) ([]Outcome, error) {
	what := "send the invites"
	if opt.Purpose == store.PurposeReset {
		what = "send a password-reset link"
	}
	if opt.renewal != nil {
		if len(ids) != 1 || opt.Purpose != store.PurposeClaim {
			return nil, errors.New("claim: a customer's request renews their own invite only")
		}
	} else if actor == nil || !actor.Role.CanManageCustomers() {
		// Refused before the first batch takes the write lock.
		return nil, forbidden(what)
	}
	out := make([]Outcome, 0, len(ids))
	for start := 0; start < len(ids); start += sendBatch {
		batch := ids[start:min(start+sendBatch, len(ids))]
		var done []Outcome
		err := s.DB.Tx(ctx, func(tx *store.Tx) error {
			done = done[:0]
			for _, id := range batch {
				o, err := s.issueOne(ctx, tx, actor, id, opt)
				if err != nil {
					return err
				}
				done = append(done, o)
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		issued := 0
		for _, o := range done {
			if o.Sent != nil {
				issued++
			}
		}
		if issued > 0 {
			kind := IssuedInvite
			if opt.Purpose == store.PurposeReset {
				kind = IssuedReset
			}
			s.metrics().Issued(kind, issued)
		}
		out = append(out, done...)
		if opt.Progress != nil {
			opt.Progress(Progress{Issuing, len(out), len(ids)})
		}
	}
	return out, nil
}

// issueOne writes one customer's link inside tx. A refusal about the
// customer is an Outcome; the actor's refusal (removed or demoted mid-run)
// and anything else is an error that ends the run.
func (s *Service) issueOne(ctx context.Context, tx *store.Tx, actor *store.Staff, id int64, opt SendOptions) (Outcome, error) {
	o := Outcome{CustomerID: id}
	var sent *Sent
	var err error
	if opt.renewal != nil {
		sent, err = s.renewOne(ctx, tx, id, opt.renewal)
	} else if opt.Purpose == store.PurposeReset {
		var org *store.Org
		var c *store.Customer
		if actor, org, c, err = s.loadReset(ctx, tx, actor, id); err == nil {
			sent, err = s.issueReset(ctx, tx, org, c, actor, "")
		}
	} else {
		var org *store.Org
		var c *store.Customer
		if actor, org, c, err = s.load(ctx, tx, actor, id, "send the invite"); err == nil {
			sent, err = s.invite(ctx, tx, actor, org, c, store.ChannelEmail)
		}
	}
	var r *Refusal
	switch {
	case err == nil:
		o.Result, o.Sent = Queued, sent
		o.Why = "not sent yet"
		return o, nil
	case errors.As(err, &r) && r.Reason == ReasonForbidden:
		return o, err
	case errors.As(err, &r):
		o.Result, o.Refusal = Refused, r
		return o, nil
	case store.ErrorCode(err) == store.ENOTFOUND:
		o.Result, o.Refusal = Refused, refuse(ReasonGone, fmt.Sprintf("Customer %d is no longer on the roster.", id))
		return o, nil
	}
	return o, err
}

// DeliverNow makes one delivery attempt of the given outbox messages now,
// for at most window (0: the transport's own timeouts), and says what became
// of each, in the order of ids. expired reports that the window ran out (the
// caller then leaves whatever is left to the outbox worker). Without a
// deliverer (Service.Mail nil) nothing is attempted.
func (s *Service) DeliverNow(ctx context.Context, window time.Duration, ids ...int64) (outs []mailer.Outcome, expired bool, err error) {
	if s.Mail == nil || len(ids) == 0 {
		return nil, false, nil
	}
	dctx := ctx
	if window > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, window)
		defer cancel()
	}
	outs, err = s.Mail.Deliver(dctx, ids...)
	return outs, errors.Is(dctx.Err(), context.DeadlineExceeded), err
}

// deliverAll makes the first delivery attempt of every issued link, a batch
// at a time, each within opt.Window, and records what became of each in out.
// Once a batch outlasts the window (the mail server is slow or silent), the
// rest are left to the outbox worker rather than keeping the caller waiting
// batch after batch.
func (s *Service) deliverAll(ctx context.Context, out []Outcome, opt SendOptions) {
	var issued []int
	for i := range out {
		if out[i].Sent != nil {
			issued = append(issued, i)
		}
	}
	if s.Mail == nil || opt.QueueOnly {
		for _, i := range issued {
			out[i].Why = "waiting for the outbox worker"
		}
		return
	}
	for start := 0; start < len(issued); start += deliverBatch {
		chunk := issued[start:min(start+deliverBatch, len(issued))]
		if ctx.Err() != nil {
			for _, i := range issued[start:] {
				out[i].Why = "stopped before it was sent; the outbox worker sends it"
			}
			return
		}
		ids := make([]int64, len(chunk))
		for j, i := range chunk {
			ids[j] = out[i].Sent.OutboxID
		}
		outs, expired, err := s.DeliverNow(ctx, opt.Window, ids...)
		if err != nil {
			// The attempt could not run (the database, say): everything
			// left stays queued, and the worker tries again.
			for _, i := range issued[start:] {
				out[i].Why = "delivery could not start: " + err.Error()
			}
			return
		}
		for j, i := range chunk {
			settle(&out[i], outs[j], expired, opt.Window)
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Delivering, start + len(chunk), len(issued)})
		}
		if expired {
			for _, i := range issued[start+len(chunk):] {
				out[i].Why = fmt.Sprintf("not tried: the mail server did not answer within the %s the desk waits; the outbox worker sends it", opt.Window)
			}
			return
		}
	}
}

// settle records the delivery attempt's outcome m in o; expired says the
// attempt's window ran out.
func settle(o *Outcome, m mailer.Outcome, expired bool, window time.Duration) {
	switch m.Status {
	case store.OutboxSent:
		o.Result, o.Reply, o.Why = Delivered, m.Reply, ""
	case store.OutboxFailed:
		o.Result, o.Why = Failed, m.Err
	default:
		o.Result, o.Why, o.NextAttempt = Queued, m.Err, m.NextAttempt
		if o.Why == "" && expired {
			o.Why = fmt.Sprintf("the mail server did not answer within the %s the desk waits", window)
		}
		if o.Why == "" {
			o.Why = "not sent yet"
		}
	}
}

// Issue issues one link of purpose to one customer without a delivery
// attempt (the outbox worker delivers it): Send for a single customer, with
// a refusal returned as the error. For scripts and tests; the desk and the
// command line use Send.
func (s *Service) Issue(ctx context.Context, actor *store.Staff, customerID int64, purpose store.Purpose) (*Sent, error) {
	out, err := s.issueAll(ctx, actor, []int64{customerID}, SendOptions{Purpose: purpose})
	if err != nil {
		return nil, err
	}
	if o := out[0]; o.Result == Refused {
		return nil, o.Refusal
	}
	return out[0].Sent, nil
}
