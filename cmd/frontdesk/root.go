package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"frontdesk/store"
)

// usageError is a mistake in how the command was called (exit status 2).
type usageError struct{ error }

// Run runs the frontdesk command line with args and returns the exit status:
// 0 success, 1 failure, 2 misuse.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	app := &App{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv}
	defer app.Close()
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if cerr := app.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "frontdesk: %s\n", errorText(err))
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "Run 'frontdesk --help' for usage.")
		return 2
	}
	return 1
}

// errorText is what the user reads: the sentence of an application error, or
// the error itself (the operator at a shell is the one who can act on it).
func errorText(err error) string {
	var se *store.Error
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}

func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "frontdesk",
		Short: "The staff front desk: find customers, fix emails, invite them to claim their account",
		Long: `frontdesk is the staff front desk for a studio, gym, salon or clinic: browse the
customer roster, fix a customer's email and invite them to claim their online
account.

Every flag can also be set with an environment variable: --smtp-host is
FRONTDESK_SMTP_HOST, --data-dir is FRONTDESK_DATA_DIR, and so on. A flag on
the command line wins over the environment.`,
		Version:       versionText(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if cmd.HasSubCommands() {
				// A group (frontdesk, org, staff key) only shows its help:
				// no configuration is needed for that.
				if len(args) > 0 {
					return unknownCommand(cmd, args[0])
				}
				return nil
			}
			if err := applyEnv(cmd, app.Getenv); err != nil {
				return usageError{err}
			}
			if err := app.Config.resolveDataDir(cmd.Flags().Changed("data-dir"), app.Getenv); err != nil {
				return usageError{err}
			}
			if err := app.Config.validate(); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	root.SetVersionTemplate("{{.Version}}")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	bindConfig(root.PersistentFlags(), &app.Config)
	root.AddCommand(
		newDemoCmd(app),
		newOrgCmd(app),
		newStaffCmd(app),
		newCustomersCmd(app),
		newBackupCmd(app),
		newMigrateDataCmd(app),
		newInviteCmd(app),
		newOutboxCmd(app),
		newTUICmd(app),
		newServeCmd(app),
		newVersionCmd(app),
	)
	setArgsUsage(root)
	return root
}

// unknownCommand is a word that names no command of cmd, with cobra's
// suggestions.
func unknownCommand(cmd *cobra.Command, word string) error {
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return usageError{errors.New(msg)}
}

// setArgsUsage makes wrong positional arguments a usage error throughout the
// tree. A command that only groups others (frontdesk, org, staff key) takes
// its words too, so that the pre-run refuses one that names no subcommand:
// left to cobra, an unknown word shows the group's help with exit 0 (or, at
// the top, fails with exit 1), and a script never learns it was mistyped.
func setArgsUsage(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Errorf("%s: %v", cmd.CommandPath(), err)}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		setArgsUsage(sub)
	}
}

// withDB wraps a command body that needs the open database, created when
// there is none.
func withDB(app *App, fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := app.Open(); err != nil {
			return err
		}
		return fn(cmd.Context(), cmd, args)
	}
}

// withExistingDB wraps the body of a command that only reads, or that
// works on an organization that must exist already (invite, staff add): it
// opens the database only when there is one, and otherwise fails saying
// where it looked and what creates one. Only demo, org add, tui and serve
// create a database.
func withExistingDB(app *App, fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := app.OpenExisting(); err != nil {
			return err
		}
		return fn(cmd.Context(), cmd, args)
	}
}
