package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// accessLog writes one line per HTTP request to the server's log and counts
// it for the metrics: method, route, status, bytes, duration and client (as
// --trusted-proxies resolves it).
//
// The route is the pattern the request matched ("GET /claim/{token}"),
// never its path: a claim or reset link's path is the token that opens an
// account until it is used, and logs are kept longer, and read by more
// people, than the outbox. A request no pattern took (a 405, a refused
// cross-origin form) is "unmatched" or the catch-all "/".
func accessLog(next http.Handler, log *slog.Logger, client func(*http.Request) string, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		// The muxes write the pattern into r itself, the innermost last
		// (the customers' web is a mux inside this server's), as long as
		// no layer between them copies the request: the access-log test
		// checks the web's own patterns arrive here.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		// A health check every few seconds would drown the log; it is
		// counted all the same, and shown at --log-level debug.
		level := slog.LevelInfo
		if route == healthzRoute {
			level = slog.LevelDebug
		}
		log.LogAttrs(context.Background(), level, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
			slog.Int64("bytes", rec.bytes), slog.Duration("duration", took), slog.String("client", client(r)))
		m.request(route, status, took)
	})
}

const healthzRoute = "GET /healthz"

// recorder notes a response's status and body size on its way out.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	// 1xx answers come before the real one.
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
