// Package logbuffer batches log lines into fewer writes. A server that logs a line per request
// otherwise pays a write system call per request for its access log alone.
package logbuffer

import (
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Writer buffers whole log lines for out. It writes them out once every interval, as soon as
// the buffer holds size bytes, and at once with a line of level warn or above, so that trouble
// is never held back behind a timer. Close writes what is left. A process killed outright loses
// at most one interval of lines below warn.
type Writer struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	size int
	stop chan struct{}
	done chan struct{}
}

// New starts a Writer for out. An interval of zero or less makes it write each line as it
// comes, as out alone would.
func New(out io.Writer, interval time.Duration, size int) *Writer {
	w := &Writer{out: out, size: size, done: make(chan struct{})}
	if interval <= 0 {
		w.size = 0
		close(w.done)
		return w
	}
	w.buf = make([]byte, 0, size)
	w.stop = make(chan struct{})
	go w.flushEvery(interval, w.stop)
	return w
}

func (w *Writer) flushEvery(interval time.Duration, stop <-chan struct{}) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = w.Flush()
		case <-stop:
			return
		}
	}
}

// Write buffers one line; zerolog writes each event with one call.
func (w *Writer) Write(p []byte) (int, error) {
	return w.WriteLevel(zerolog.NoLevel, p)
}

// WriteLevel buffers one line of level l, writing the buffer out with it when l is warn or
// above or when the buffer is full.
func (w *Writer) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	urgent := l >= zerolog.WarnLevel && l != zerolog.NoLevel
	if w.size == 0 || urgent && len(w.buf) == 0 {
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > w.size {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	w.buf = append(w.buf, p...)
	if urgent || len(w.buf) >= w.size {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes out the buffered lines.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	// A failed write drops the batch rather than retrying it forever; the error goes to the
	// caller that hit it.
	w.buf = w.buf[:0]
	return err
}

// Close stops the timer and writes out what is buffered. Lines written after Close go out at once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.stop != nil {
		close(w.stop)
		w.stop = nil
	}
	w.mu.Unlock()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flushLocked()
	w.size = 0
	return err
}
