package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strings"

	"frontdesk/store"
)

// App is one run of the command: configuration, I/O and, once a command needs
// it, the open database. Tests run it in-process through Run.
type App struct {
	Config
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	DB *store.DB

	// metrics counts for serve --metrics-addr; nil (counting nothing)
	// otherwise.
	metrics *metrics
}

// Open opens the database in the data directory, creating both if needed;
// making the database is said on stderr, with where it is.
func (a *App) Open() error {
	if a.DB != nil {
		return nil
	}
	if err := os.MkdirAll(a.DataDir, 0o700); err != nil {
		return fmt.Errorf("--data-dir %s: %w", a.DataDir, err)
	}
	_, err := os.Stat(a.DBPath())
	fresh := errors.Is(err, fs.ErrNotExist)
	db, err := store.OpenWith(a.DBPath(), store.Options{OutboxKey: a.OutboxKey})
	if err != nil {
		return err
	}
	a.DB = db
	if fresh && a.Stderr != nil {
		io.WriteString(a.Stderr, a.createdNotice())
	}
	return nil
}

// OpenExisting opens the database in the data directory if there is one,
// creating nothing (store.Options.Existing).
func (a *App) OpenExisting() error {
	if a.DB != nil {
		return nil
	}
	db, err := store.OpenWith(a.DBPath(), store.Options{OutboxKey: a.OutboxKey, Existing: true})
	if errors.Is(err, store.ErrNoDatabase) {
		return store.Errorf(store.ENOTFOUND, "%s", a.noDatabase())
	} else if err != nil {
		return err
	}
	a.DB = db
	return nil
}

// Close releases what Open took.
func (a *App) Close() error {
	if a.DB == nil {
		return nil
	}
	err := a.DB.Close()
	a.DB = nil
	return err
}

// Organization resolves --org, or the only organization when there is one.
func (a *App) Organization(ctx context.Context) (*store.Org, error) {
	if a.Org != "" {
		return a.DB.OrgBySlug(ctx, a.Org)
	}
	orgs, err := a.DB.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	switch len(orgs) {
	case 0:
		return nil, store.Errorf(store.ENOTFOUND, "there is no organization yet; create one with `frontdesk org add --name NAME` or try `frontdesk demo`")
	case 1:
		return orgs[0], nil
	}
	slugs := make([]string, len(orgs))
	for i, o := range orgs {
		slugs[i] = o.Slug
	}
	return nil, store.Errorf(store.EINVALID, "there are %d organizations (%s); choose one with --org SLUG", len(orgs), strings.Join(slugs, ", "))
}

// Actor is who the audit log names for a command-line action: the operating
// system user, since whoever can run the binary on the database can do
// anything an owner can.
func (a *App) Actor() store.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil {
		name = "cli:" + u.Username
	}
	return store.SystemActor(name)
}
