package csvio

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"frontdesk/store"
)

// FuzzImport feeds Import arbitrary bytes. It must not panic; when it fails
// or dry-runs it must leave the organization as it was; when it succeeds the
// report must add up to what was written; and no reason may carry raw
// control characters to the terminal that prints it.
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"first_name,last_name,email,phone,Level\nJane,Doe,jane@example.com,555,Gold\n",
		"\ufefffirst_name,email\r\nAnn,ann@example.com\r\nAnn,ANN@example.com\r\n",
		"first_name,email\nAnn,\"unclosed\n",
		"first_name,x\nAnn,O\"Neil\n",
		"first_name,email,Notes\nBob,existing@example.com,\"two\nlines\"\n,,\n",
		"last_name\nLee\n\x00\n",
		"first_name,,Level\n",
		"Level,level\n",
		"first_name\n\x1b[2J\n",
		"\xff\xfe",
		"first_name,email\nAnn,ann@b\xe9.com\n",
	} {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, false)
		f.Add([]byte(s), false, true)
	}
	db, _ := newDB(f)
	ctx := context.Background()
	var orgs atomic.Int64
	f.Fuzz(func(t *testing.T, data []byte, skip, dry bool) {
		org := newOrg(t, db, fmt.Sprintf("Fuzz %d", orgs.Add(1)))
		existing := &store.Customer{OrgID: org.ID, FirstName: "Ann", LastName: "Existing", Email: "existing@example.com",
			Fields: []store.Field{{Name: "Level", Value: "Gold"}}}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return tx.CreateCustomer(ctx, existing) }); err != nil {
			t.Fatal(err)
		}
		before := snap(t, db, org)
		rep, err := Import(ctx, db, org, bytes.NewReader(data), ImportOptions{SkipInvalid: skip, DryRun: dry})
		if rep == nil {
			t.Fatal("nil report")
		}
		after := snap(t, db, org)
		if err != nil || dry {
			if after != before {
				t.Fatalf("err %v, dry run %v, yet the roster changed: %+v → %+v", err, dry, before, after)
			}
		} else {
			if rep.Imported+rep.Skipped != rep.Rows {
				t.Fatalf("report does not add up: %+v", rep)
			}
			if after.customers != before.customers+rep.Imported {
				t.Fatalf("%d customers written, report says %d", after.customers-before.customers, rep.Imported)
			}
			if wantAudit := before.audit + min(rep.Imported, 1); after.audit != wantAudit {
				t.Fatalf("%d audit rows, want %d", after.audit, wantAudit)
			}
		}
		if err == nil && rep.Skipped > 0 && !skip {
			t.Fatalf("rows skipped without SkipInvalid and no error: %+v", rep)
		}
		if len(rep.Problems) > MaxProblems || len(rep.Problems) > rep.Skipped+1 {
			t.Fatalf("%d problems for %d skipped rows", len(rep.Problems), rep.Skipped)
		}
		msgs := []string{}
		if err != nil {
			msgs = append(msgs, err.Error())
		}
		for _, p := range rep.Problems {
			if p.Line < 1 {
				t.Fatalf("problem without a line: %+v", p)
			}
			msgs = append(msgs, p.Reason)
		}
		for _, m := range msgs {
			if !utf8.ValidString(m) || strings.ContainsAny(m, "\x00\x1b\r\u009b") {
				t.Fatalf("message unsafe to print: %q", m)
			}
		}
	})
}
