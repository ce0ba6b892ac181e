package mailer

import (
	"context"
	"testing"

	"frontdesk/store"
	"frontdesk/store/storetest"
)

// Three serve nodes on one PostgreSQL database, each with its own store.DB
// (its own pools and writer) and its own worker, all delivering one queue
// of 200 invites to one mail server at once: every message is delivered
// exactly once, and the database says every one was sent. The leases
// (FOR UPDATE SKIP LOCKED, under the write lock) keep each message to one
// worker; the workers talk SMTP outside any transaction, so they send side
// by side.
func TestThreeNodesDeliverEachMessageOnce(t *testing.T) {
	dsn := storetest.Postgres(t)
	srv := startServer(t, serverConfig{})
	f := newFixtureAt(t, dsn, t.TempDir())
	const n = 200
	deliverOnce(t, f, srv, f.queue(t, n), "node-a", "node-b", "node-c")
	byStatus, err := f.db.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if byStatus[store.OutboxSent] != n || len(byStatus) != 1 {
		t.Errorf("outbox by status: %v, want %d sent", byStatus, n)
	}
}
