package logbuffer

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sink records each write it gets, so tests see how lines were batched.
type sink struct {
	mu     sync.Mutex
	writes []string
	fail   error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

func TestLinesBelowWarnWaitForTheIntervalAndArriveInOneWrite(t *testing.T) {
	out := &sink{}
	w := New(out, 20*time.Millisecond, 4096)
	defer w.Close()
	log := zerolog.New(w)
	log.Info().Msg("one")
	log.Debug().Msg("two")
	assert.Empty(t, out.got(), "held until the interval passes")
	assert.Eventually(t, func() bool { return len(out.got()) == 1 }, time.Second, 5*time.Millisecond)
	assert.Equal(t, `{"level":"info","message":"one"}`+"\n"+`{"level":"debug","message":"two"}`+"\n", out.got()[0])
}

func TestAWarningGoesOutAtOnceWithTheLinesBeforeIt(t *testing.T) {
	out := &sink{}
	w := New(out, time.Hour, 4096)
	defer w.Close()
	log := zerolog.New(w)
	log.Info().Msg("request")
	log.Warn().Msg("trouble")
	require.Len(t, out.got(), 1)
	assert.Equal(t, `{"level":"info","message":"request"}`+"\n"+`{"level":"warn","message":"trouble"}`+"\n", out.got()[0])

	log.Error().Msg("alone")
	assert.Equal(t, []string{out.got()[0], `{"level":"error","message":"alone"}` + "\n"}, out.got(), "nothing held: written as it is")
}

func TestAFullBufferIsWrittenOutWithoutWaiting(t *testing.T) {
	out := &sink{}
	w := New(out, time.Hour, 64)
	defer w.Close()
	line := []byte("0123456789012345678901234567890\n") // 32 bytes
	for range 5 {
		_, err := w.Write(line)
		require.NoError(t, err)
	}
	got := out.got()
	require.Len(t, got, 2, "64 bytes fill the buffer twice")
	assert.Equal(t, string(bytes.Repeat(line, 2)), got[0])
	require.NoError(t, w.Flush())
	assert.Equal(t, string(line), out.got()[2])
}

func TestCloseWritesTheRestAndLaterLinesGoStraightOut(t *testing.T) {
	out := &sink{}
	w := New(out, time.Hour, 4096)
	_, _ = w.Write([]byte("a\n"))
	_, _ = w.Write([]byte("b\n"))
	require.NoError(t, w.Close())
	assert.Equal(t, []string{"a\nb\n"}, out.got())
	_, _ = w.Write([]byte("c\n"))
	assert.Equal(t, []string{"a\nb\n", "c\n"}, out.got())
	require.NoError(t, w.Close(), "closing twice is harmless")
}

func TestWithoutAnIntervalEachLineIsWrittenAsItComes(t *testing.T) {
	out := &sink{}
	w := New(out, 0, 4096)
	defer w.Close()
	_, _ = w.Write([]byte("a\n"))
	_, _ = w.Write([]byte("b\n"))
	assert.Equal(t, []string{"a\n", "b\n"}, out.got())
}

func TestAFailedWriteIsReportedAndDoesNotWedgeTheWriter(t *testing.T) {
	out := &sink{fail: errors.New("disk full")}
	w := New(out, time.Hour, 4096)
	defer w.Close()
	_, err := w.Write([]byte("lost\n"))
	require.NoError(t, err, "only buffered")
	assert.EqualError(t, w.Flush(), "disk full")
	out.mu.Lock()
	out.fail = nil
	out.mu.Unlock()
	_, _ = w.Write([]byte("kept\n"))
	require.NoError(t, w.Flush())
	assert.Equal(t, []string{"kept\n"}, out.got())
}
