package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

func newOutboxCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "See and retry outgoing email; rotate the key that encrypts it"}
	cmd.AddCommand(newOutboxListCmd(app), newOutboxRetryCmd(app), newOutboxRotateKeyCmd(app))
	return cmd
}

func newOutboxListCmd(app *App) *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--limit N] [--json]",
		Short: "List outgoing email, newest first: whom it was for, its delivery, what happened in plain words and the server's reply",
		Args:  cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d: give 0 (no limit) or more", limit)}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			loc := o.Location()
			out := bufio.NewWriter(app.Stdout)
			defer out.Flush()
			var list *jsonList
			if asJSON {
				list = newJSONList(out)
			}
			var tw *table
			// The pages the outbox screen reads, streamed, so that --limit 0
			// lists any number of messages in bounded memory.
			q := store.OutboxQuery{}
			for n := 0; limit == 0 || n < limit; {
				q.Limit = store.OutboxPageMax
				if limit > 0 {
					q.Limit = min(q.Limit, limit-n)
				}
				msgs, err := app.DB.OutboxPage(ctx, o.ID, q)
				if err != nil {
					return err
				}
				for _, m := range msgs {
					n++
					if list != nil {
						if err := list.Add(newOutboxJSON(&m)); err != nil {
							return err
						}
						continue
					}
					if tw == nil {
						tw = newTable(out, "ID", "STATUS", "TO", "CUSTOMER", "KIND", "ATTEMPTS", "NEXT ATTEMPT", "SENT", "WHAT HAPPENED", "LAST REPLY")
					}
					next, sent, reply := "-", "-", m.LastError
					if m.Status == store.OutboxQueued {
						next = format.DateTime(m.NextAttemptAt, loc)
					}
					if m.Status == store.OutboxSent {
						reply = m.Reply
					}
					if !m.SentAt.IsZero() { // sent, or sent and bounced since
						sent = format.DateTime(m.SentAt, loc)
					}
					customer := m.CustomerName
					if m.CustomerID == 0 {
						customer = "(deleted)"
					}
					// Customer text made inert cannot carry a newline or an
					// escape that would shift the other cells.
					tw.Row(strconv.FormatInt(m.ID, 10), string(m.Status), inert.String(m.To), inert.String(customer), string(m.Kind), strconv.Itoa(m.Attempts), next, sent,
						inert.String(cmp.Or(mailer.ExplainDelivery(&m.OutboxMessage, " — "), "-")), inert.String(cmp.Or(reply, "-")))
				}
				if len(msgs) < q.Limit {
					break
				}
				q.Before = msgs[len(msgs)-1].ID
			}
			if list != nil {
				if err := list.Close(); err != nil {
					return err
				}
				return out.Flush()
			}
			if tw == nil {
				fmt.Fprintln(out, "The outbox is empty.")
				return out.Flush()
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return out.Flush()
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most N messages (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (fields in the README's \"JSON output\")")
	markNoEnv(cmd.Flags(), "limit", "json")
	return cmd
}

func newOutboxRetryCmd(app *App) *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use:   "retry ID [--as EMAIL]",
		Short: "Send a failed or waiting message again now",
		Long: `Send an outbox message again now (see outbox list for the ids).

A message still waiting is sent as it is. An invite or password-reset email
that failed for good, or bounced after delivery, no longer holds its link (the
link stopped working then): retrying it sends a fresh link, as a resend does,
to the customer's address as it is now, so fix a mistyped email first. Any
other failed message is sent as it was.`,
		Args: cobra.ExactArgs(1),
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageError{fmt.Errorf("%q is not a message id; `frontdesk outbox list` shows them", args[0])}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			actor, err := app.Staff(ctx, o, as)
			if err != nil {
				return err
			}
			r, err := app.Service().RetryMessage(ctx, actor, id)
			var refusal *claim.Refusal
			if errors.As(err, &refusal) {
				return errors.New(cliWords(o).Refusal(refusal))
			} else if err != nil {
				return err
			}
			what := fmt.Sprintf("Message %d", id)
			if r.Reissued {
				kind := "invite"
				if r.Purpose == store.PurposeReset {
					kind = "password-reset link"
				}
				fmt.Fprintf(app.Stdout, "Message %d had failed and its link no longer works; a fresh %s for %s is message %d.\n",
					id, kind, inert.String(r.Customer.Email), r.OutboxID)
				what = fmt.Sprintf("Message %d", r.OutboxID)
			}
			w, err := app.Worker(app.Logger())
			if err != nil {
				return err
			}
			outs, err := w.Deliver(ctx, r.OutboxID)
			if err == nil && ctx.Err() != nil && outs[0].Status != store.OutboxSent {
				err = ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("message %d is queued but not delivered yet: %w", r.OutboxID, stoppedText(err))
			}
			out := outs[0]
			switch out.Status {
			case store.OutboxSent:
				fmt.Fprintf(app.Stdout, "%s sent: %s\n", what, inert.String(out.Reply))
			case store.OutboxQueued:
				next := "with the next worker run"
				if !out.NextAttempt.IsZero() {
					next = "next attempt " + out.NextAttempt.In(o.Location()).Format(time.Kitchen)
				}
				fmt.Fprintf(app.Stdout, "%s queued: %s; %s\n", what, inert.String(out.Err), next)
			default:
				return store.Errorf(store.EINVALID, "message %d failed again: %s", r.OutboxID, out.Err)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", "staff member acting (default: the organization's first owner)")
	return cmd
}

func newOutboxRotateKeyCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key",
		Short: "Encrypt waiting email under a new outbox key and retire the old key",
		Long: `Email waiting in the outbox carries live claim and reset links, so its text is
stored encrypted with the key in the outbox key file (--outbox-key, by default
<data-dir>/outbox.key). The database alone, or a backup of it, opens nothing.

Rotate the key when the key file may have leaked: a copy ended up in a
backup or on a lost disk, or someone who had it should no longer. rotate-key
makes a new key, re-encrypts every stored message under it in one
transaction (audited in every organization), then removes the old key from
the key file, so a leaked copy opens nothing stored from then on.

It is safe while frontdesk serve runs: other processes using the same key
file follow the new key by themselves. Machines that share one key file must
all read that same file; where each has its own copy, copy the new file to
every one of them right away.`,
		Args: cobra.NoArgs,
		RunE: withExistingDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			r, err := app.DB.RotateOutboxKey(ctx, app.Actor())
			if err != nil {
				return err
			}
			retired := "there was no earlier key"
			if len(r.Retired) > 0 {
				retired = "retired key " + strings.Join(r.Retired, ", ")
			}
			fmt.Fprintf(app.Stdout, "Outbox key rotated: %s re-encrypted under key %s in %s; %s.\n", format.Count(r.Resealed, "message"), r.Key, r.KeyFile, retired)
			if r.Unreadable > 0 {
				fmt.Fprintf(app.Stdout, "Left as stored: %s sealed with a key the key file did not hold, which cannot be sent (send new invites).\n", format.Count(r.Unreadable, "message"))
			}
			return nil
		}),
	}
}
