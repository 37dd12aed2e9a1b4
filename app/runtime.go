package app

import (
	"io"
	"runtime/debug"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/app/logbuffer"
)

// GCPercent is the garbage collector's setting a server runs with when GOGC is not set. Jarvis
// keeps a few MB live and makes a few KB of garbage per request, so at Go's default of 100 the
// collector would run dozens of times a second under load; at 400 the heap stays within a few
// tens of MB and collecting costs a fraction as much (make bench-load measures the difference).
const GCPercent = 400

// TuneRuntime applies GCPercent unless GOGC is set; lookup reads the environment.
func TuneRuntime(lookup func(string) (string, bool)) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
}

// NewLogger is the server's logger: JSON lines on out at the configured level, each with a
// timestamp and the service's name, written in batches as JARVIS_LOG_FLUSH_INTERVAL says.
// Closing the returned writer writes out the lines it holds.
func NewLogger(cfg Config, out io.Writer) (zerolog.Logger, io.Closer) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	w := logbuffer.New(out, cfg.LogFlushInterval, 64<<10)
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "jarvis").Logger(), w
}
