package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The claim page against a bare net/http handler, both through a real
// loopback server (httptest.NewServer) and one shared keep-alive client,
// with parallel clients. DESIGN §9 asks the claim page for at least a third
// of the bare handler's request rate. The claim page runs in full: security
// headers, cross-origin check, rate limiter (with a limit too high to bite),
// the token look-up (invite, organization, customer) on the SQLite file, and
// the template.
//
//	go test -run XXX -bench . -benchtime 2s ./claim/web

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * runtime.GOMAXPROCS(0)}}
}

func benchGet(b *testing.B, c *http.Client, url string, cookie *http.Cookie) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		for pb.Next() {
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkBareHandler(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()
	benchGet(b, benchClient(), srv.URL+"/", nil)
}

func BenchmarkClaimPage(b *testing.B) {
	f := newFixtureTLS(b, false, func(o *Options) { o.Limits.Token = Limit{Burst: 1 << 30, Every: time.Nanosecond} })
	jane := f.customer(f.org, "Jane", "Doe", "jane@example.com")
	token := f.invite(jane)
	c := benchClient()
	// Check the page first: a benchmark of an error page would flatter us.
	req, _ := http.NewRequest("GET", f.srv.URL+"/claim", nil)
	req.AddCookie(&http.Cookie{Name: claimCookie, Value: token})
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytesContains(body, "jane@example.com") {
		b.Fatalf("claim page: %d\n%s", resp.StatusCode, body)
	}
	benchGet(b, c, f.srv.URL+"/claim", &http.Cookie{Name: claimCookie, Value: token})
}

func bytesContains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// BenchmarkClaimPageHandler is the claim page's server-side cost alone (no
// network, no client): where to look when the ratio above gets thin. On
// 2026-11-24 it was ~51 µs, 298 allocs: the template ~40 %, the token
// look-up ~37 %.
func BenchmarkClaimPageHandler(b *testing.B) {
	f := newFixtureTLS(b, false, func(o *Options) { o.Limits.Token = Limit{Burst: 1 << 30, Every: time.Nanosecond} })
	token := f.invite(f.customer(f.org, "Jane", "Doe", "jane@example.com"))
	h := f.srv.Config.Handler
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/claim", nil)
		req.AddCookie(&http.Cookie{Name: claimCookie, Value: token})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("claim page: %d", w.Code)
		}
	}
}
