package mailer

import (
	"net/mail"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"frontdesk/store"
)

// BenchmarkOutboxVsDialAndSend compares the outbox (lease a batch in SQLite,
// send over one connection, record every result in its own transaction) with
// go-mail's own DialAndSend of the same 200 messages over one connection, to
// the same in-process SMTP server. DESIGN §9 asks for at least half its rate.
//
//	go test ./mailer -run '^$' -bench OutboxVsDialAndSend -benchtime 20x
func BenchmarkOutboxVsDialAndSend(b *testing.B) {
	const n = 200
	srv := startServer(b, serverConfig{Discard: true})
	tr := srv.transport(b)
	f := newFixture(b)
	client, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.Port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTimeout(5*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	from := &mail.Address{Address: "frontdesk@studio.example"}

	outbox := func(w *Worker) time.Duration {
		start := time.Now()
		if res := drain(b, w); res.Sent != n {
			b.Fatalf("outbox sent %+v, want %d", res, n)
		}
		return time.Since(start)
	}
	direct := func(msgs []*store.OutboxMessage) time.Duration {
		start := time.Now()
		gm := make([]*gomail.Msg, len(msgs))
		for i, m := range msgs {
			var err error
			if gm[i], err = buildMsg(m, from, nil, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		if err := client.DialAndSend(gm...); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}

	var outboxTime, directTime time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		msgs := f.queue(b, n)
		w := f.worker(tr)
		b.StartTimer()
		// Alternate which goes first so neither always meets a warm server.
		if i%2 == 0 {
			outboxTime += outbox(w)
			directTime += direct(msgs)
		} else {
			directTime += direct(msgs)
			outboxTime += outbox(w)
		}
	}
	total := float64(n * b.N)
	outboxRate, directRate := total/outboxTime.Seconds(), total/directTime.Seconds()
	b.ReportMetric(outboxRate, "outbox-msgs/s")
	b.ReportMetric(directRate, "dialandsend-msgs/s")
	b.ReportMetric(outboxRate/directRate, "outbox/dialandsend")
	b.ReportMetric(0, "ns/op") // both phases are in ns/op; the rates are the figures
}
