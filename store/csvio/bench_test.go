package csvio

import (
	"bytes"
	"context"
	"io"
	"testing"
)

func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	data := genCSV(n)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db, org := newDB(b)
		b.StartTimer()
		rep, err := Import(ctx, db, org, bytes.NewReader(data), ImportOptions{Source: "bench.csv"})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Imported != n {
			b.Fatalf("imported %d, want %d", rep.Imported, n)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkExport100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	db, org := newDB(b)
	if _, err := Import(ctx, db, org, bytes.NewReader(genCSV(n)), ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		got, err := Export(ctx, db, org, io.Discard, ExportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("exported %d, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkImportUpdate100k: import --update of 100,000 rows over the same
// 100,000 customers, every row changing the phone and a custom field (the
// worst case: every customer written and re-indexed), and the same file
// again, when every row is unchanged.
func BenchmarkImportUpdate100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	changed := bytes.ReplaceAll(genCSV(n), []byte("'+1 555-"), []byte("'+1 556-"))
	changed = bytes.ReplaceAll(changed, []byte(",Gold,"), []byte(",Platinum,"))
	for _, run := range []string{"changed", "unchanged"} {
		b.Run(run, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				db, org := newDB(b)
				if _, err := Import(ctx, db, org, bytes.NewReader(genCSV(n)), ImportOptions{}); err != nil {
					b.Fatal(err)
				}
				file := changed
				if run == "unchanged" {
					file = genCSV(n)
				}
				b.StartTimer()
				rep, err := Import(ctx, db, org, bytes.NewReader(file), ImportOptions{Update: true, Source: "bench.csv"})
				if err != nil {
					b.Fatal(err)
				}
				if (run == "changed" && rep.Updated != n) || (run == "unchanged" && rep.Unchanged != n) {
					b.Fatalf("report %+v", rep)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
