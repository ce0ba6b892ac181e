package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"frontdesk/store"
	"frontdesk/tui/inert"
)

func newOutboxCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "See and retry outgoing email"}
	cmd.AddCommand(newOutboxListCmd(app), newOutboxRetryCmd(app))
	return cmd
}

func newOutboxListCmd(app *App) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--limit N]",
		Short: "List outgoing email, newest first, with delivery state and the server's last reply",
		Args:  cobra.NoArgs,
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			msgs, err := app.DB.OutboxMessages(ctx, o.ID, limit)
			if err != nil {
				return err
			}
			if len(msgs) == 0 {
				fmt.Fprintln(app.Stdout, "The outbox is empty.")
				return nil
			}
			loc := o.Location()
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tTO\tKIND\tATTEMPTS\tNEXT ATTEMPT\tLAST REPLY")
			for _, m := range msgs {
				next, reply := "-", m.LastError
				switch m.Status {
				case store.OutboxQueued:
					next = m.NextAttemptAt.In(loc).Format("Mon 2 Jan 15:04:05")
				case store.OutboxSent:
					reply = m.Reply
					next = "sent " + m.SentAt.In(loc).Format("Mon 2 Jan 15:04")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Status, inert.String(m.To), m.Kind, m.Attempts, next, inert.String(orText(reply, "-")))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most N messages")
	markNoEnv(cmd.Flags(), "limit")
	return cmd
}

func newOutboxRetryCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "retry ID",
		Short: "Send a failed or waiting message again now",
		Args:  cobra.ExactArgs(1),
		RunE: withDB(app, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageError{fmt.Errorf("%q is not a message id; `frontdesk outbox list` shows them", args[0])}
			}
			o, err := app.Organization(ctx)
			if err != nil {
				return err
			}
			err = app.DB.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.RetryMessage(ctx, o.ID, id); err != nil {
					return err
				}
				return tx.Audit(ctx, o.ID, app.Actor(), "outbox.retry", 0, fmt.Sprintf("message %d queued again", id))
			})
			if err != nil {
				return err
			}
			w, err := app.Worker(app.Logger())
			if err != nil {
				return err
			}
			outs, err := w.Deliver(ctx, id)
			if err != nil {
				return fmt.Errorf("message %d is queued again but not delivered yet: %w", id, err)
			}
			out := outs[0]
			switch out.Status {
			case store.OutboxSent:
				fmt.Fprintf(app.Stdout, "Message %d sent: %s\n", id, inert.String(out.Reply))
			case store.OutboxQueued:
				fmt.Fprintf(app.Stdout, "Message %d queued: %s; next attempt %s\n", id, inert.String(out.Err), out.NextAttempt.In(o.Location()).Format(time.Kitchen))
			default:
				return store.Errorf(store.EINVALID, "message %d failed again: %s", id, out.Err)
			}
			return nil
		}),
	}
}
