package audio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// ffmpegDecoder pipes the input through `ffmpeg -i pipe:0 -f f32le` so that
// formats without a pure-Go decoder are still read as a stream.
type ffmpegDecoder struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    *bufio.Reader
	stderr *tailBuffer
	feedWG sync.WaitGroup
	ch     int
	raw    []byte
	format Format
	done   bool
}

func openFFmpeg(r io.Reader, format Format, opts Options) (decoder, StreamInfo, error) {
	bin := ffmpegAvailable(opts)
	if bin == "" {
		reason := "no pure-Go decoder for it and ffmpeg is not available"
		if format == FormatUnknown {
			reason = "the first bytes match no known audio format and ffmpeg is not available"
		}
		return nil, StreamInfo{}, &UnsupportedFormatError{Detected: format, Accepted: NativeFormats, Reason: reason}
	}
	ch, rate := opts.FallbackChannels, opts.FallbackSampleRate
	if ch <= 0 {
		ch = 2
	}
	if rate <= 0 {
		rate = 48000
	}
	if err := checkInfo(format, rate, ch); err != nil {
		return nil, StreamInfo{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", "pipe:0", "-f", "f32le", "-ac", strconv.Itoa(ch), "-ar", strconv.Itoa(rate), "pipe:1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, StreamInfo{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, StreamInfo{}, err
	}
	tail := &tailBuffer{max: 4096}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, StreamInfo{}, fmt.Errorf("audio: starting ffmpeg: %w", err)
	}
	d := &ffmpegDecoder{cmd: cmd, cancel: cancel, out: bufio.NewReaderSize(stdout, 64<<10), stderr: tail, ch: ch, format: format}
	d.feedWG.Add(1)
	go func() {
		defer d.feedWG.Done()
		// ffmpeg may stop reading early (error or kill); a broken pipe then
		// is expected and its exit status tells the story.
		_, _ = io.Copy(stdin, r)
		_ = stdin.Close()
	}()
	return d, StreamInfo{SampleRate: rate, Channels: ch, Frames: -1, ViaFFmpeg: true}, nil
}

func (d *ffmpegDecoder) read(dst []float64) (int, error) {
	if d.done {
		return 0, nil
	}
	need := len(dst) / d.ch * d.ch * 4
	if cap(d.raw) < need {
		d.raw = make([]byte, need)
	}
	n, err := io.ReadFull(d.out, d.raw[:need])
	frames := n / (4 * d.ch)
	for i := range frames * d.ch {
		v := float64(math.Float32frombits(binary.LittleEndian.Uint32(d.raw[4*i:])))
		if !(math.Abs(v) <= maxFloatSample) {
			v = 0 // NaN, Inf or absurd: ffmpeg's float output of garbage
		}
		dst[i] = v
	}
	if err == nil {
		return frames, nil
	}
	d.done = true
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return frames, fmt.Errorf("audio: reading ffmpeg output: %w", err)
	}
	if werr := d.wait(); werr != nil {
		return frames, corrupt(d.format, "ffmpeg could not decode it: "+d.stderr.String(), werr)
	}
	return frames, nil
}

func (d *ffmpegDecoder) wait() error {
	err := d.cmd.Wait()
	d.feedWG.Wait()
	d.cancel()
	return err
}

func (d *ffmpegDecoder) close() error {
	if d.done {
		return nil
	}
	d.done = true
	d.cancel() // kills ffmpeg; closing early is not an error
	_ = d.wait()
	return nil
}

// tailBuffer keeps the last max bytes written (ffmpeg's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if t.buf.Len() > t.max {
		b := t.buf.Bytes()[t.buf.Len()-t.max:]
		t.buf.Reset()
		t.buf.Write(b)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}
