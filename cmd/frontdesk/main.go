// Command frontdesk is the staff front desk: a terminal app (local or over
// SSH) for finding customers, fixing their email and inviting them to claim
// their online account, plus the commands that set it up.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // emails and screens show the organization's time zone even on a machine without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; restoring the default
	// handling then makes a second one end the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
