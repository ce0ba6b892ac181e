package mailer

import (
	"context"
	"fmt"
	"sync"
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
	msgs := f.queue(t, n)
	workers := make([]*Worker, 3)
	for i := range workers {
		workers[i] = &Worker{DB: f.open(t), Transport: srv.transport(t), Owner: fmt.Sprintf("node-%c", 'a'+i), Batch: 7, Logger: quietLogger()}
	}
	var wg sync.WaitGroup
	sent := make([]int, len(workers))
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := w.RunOnce(context.Background())
				if err != nil {
					errs[i] = err
					return
				}
				if r.Leased == 0 {
					return
				}
				sent[i] += r.Sent
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", workers[i].Owner, err)
		}
	}
	t.Logf("sent per node: %v", sent)
	if sent[0]+sent[1]+sent[2] != n {
		t.Fatalf("the workers sent %v, %d in all; want %d", sent, sent[0]+sent[1]+sent[2], n)
	}
	counts := srv.CountTo()
	for _, m := range msgs {
		if counts[m.To] != 1 {
			t.Errorf("%s received %d times", m.To, counts[m.To])
		}
	}
	if got := len(srv.Received()); got != n {
		t.Errorf("the mail server received %d messages, want %d", got, n)
	}
	byStatus, err := f.db.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if byStatus[store.OutboxSent] != n || len(byStatus) != 1 {
		t.Errorf("outbox by status: %v, want %d sent", byStatus, n)
	}
}
