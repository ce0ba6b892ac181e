package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

// logLevels are the values --log-level takes.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

var (
	logLevelNames = []string{"debug", "info", "warn", "error"}
	logFormats    = []string{"text", "json"}
)

// choice is a string flag that takes one of a few words, refused when it
// is set (so a bad FRONTDESK_* value names its variable, as applyEnv does
// for other types).
type choice struct {
	v       *string
	allowed []string
}

func (c choice) Set(s string) error {
	if !slices.Contains(c.allowed, s) {
		return fmt.Errorf("use %s or %s", strings.Join(c.allowed[:len(c.allowed)-1], ", "), c.allowed[len(c.allowed)-1])
	}
	*c.v = s
	return nil
}

func (c choice) String() string {
	if c.v == nil {
		return ""
	}
	return *c.v
}

func (c choice) Type() string { return "string" }

// logger is the one way a frontdesk process builds its log: lines to w in
// the format and from the level the flags give, or from def when
// --log-level is not given (a one-shot command keeps its output for what
// it was asked; a server says what it does).
func (c *Config) logger(w io.Writer, def slog.Level) *slog.Logger {
	level, ok := logLevels[c.LogLevel]
	if !ok {
		level = def
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
