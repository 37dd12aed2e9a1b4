package audio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// Options control Open.
type Options struct {
	// MaxSeconds rejects longer inputs with ErrTooLong: from the header
	// when it declares a length, otherwise once decoding passes the limit.
	// Zero means no limit.
	MaxSeconds float64
	// DisableFFmpeg turns the ffmpeg fallback off even when it is on PATH.
	DisableFFmpeg bool
	// FFmpegPath overrides the ffmpeg binary looked up on PATH.
	FFmpegPath string
	// FallbackChannels and FallbackSampleRate are what ffmpeg is asked to
	// output (-ac, -ar) for formats decoded through it, because its raw
	// f32le output carries no header to tell them. Defaults 2 and 48000.
	FallbackChannels   int
	FallbackSampleRate int
}

// StreamInfo describes the decoded signal.
type StreamInfo struct {
	Format     Format
	SampleRate int
	Channels   int
	// BitDepth of the source samples; 0 for lossy codecs and ffmpeg output.
	BitDepth int
	// Frames is the length declared by the header, or -1 when unknown.
	Frames int64
	// ViaFFmpeg is true when the ffmpeg fallback decodes the input.
	ViaFFmpeg bool
}

// Stream yields decoded audio as interleaved float64 samples scaled to
// [-1, 1) full scale.
type Stream interface {
	Info() StreamInfo
	// ReadFrames fills dst with whole interleaved frames (len(dst) should be
	// a multiple of Channels) and returns how many frames it wrote. It
	// returns 0, io.EOF at the end, or a typed error (ErrCorrupt,
	// ErrTruncated, ErrTooLong).
	ReadFrames(dst []float64) (frames int, err error)
	// Close releases the decoder (and stops ffmpeg when it runs).
	Close() error
}

// Limits on header fields, so that a hostile header cannot make the
// decoder allocate without bound or divide by zero.
const (
	maxChannels   = 32
	minSampleRate = 1000
	maxSampleRate = 768000
)

// decoder is what each format implements; stream adds the shared checks.
type decoder interface {
	// read fills dst with whole frames and returns the number of frames.
	read(dst []float64) (int, error)
	close() error
}

// Open detects the format of r and returns a stream decoding it.
// r is read sequentially and never seeked.
func Open(r io.Reader, opts Options) (s Stream, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(detectPeekBytes)
	format := Detect(head)
	if len(head) == 0 {
		return nil, truncated(FormatUnknown, "empty input", nil)
	}
	defer func() {
		// The third-party decoders are not guaranteed panic-free on hostile
		// input; a panic there is a corrupt file, not a crash.
		if p := recover(); p != nil {
			s, err = nil, corrupt(format, "decoder failed", fmt.Errorf("%v", p))
		}
	}()
	var dec decoder
	var info StreamInfo
	switch format {
	case FormatWAV:
		dec, info, err = openWAV(br)
	case FormatFLAC:
		dec, info, err = openFLAC(br)
	case FormatMP3:
		dec, info, err = openMP3(br)
	case FormatOggVorbis:
		dec, info, err = openVorbis(br)
	default:
		dec, info, err = openFFmpeg(br, format, opts)
	}
	if err != nil {
		return nil, err
	}
	info.Format = format
	st := &stream{info: info, dec: dec, maxSeconds: opts.MaxSeconds}
	if opts.MaxSeconds > 0 && info.Frames > 0 {
		secs := float64(info.Frames) / float64(info.SampleRate)
		if secs > opts.MaxSeconds {
			_ = dec.close()
			return nil, &TooLongError{MaxSeconds: opts.MaxSeconds, Seconds: secs, FromHeader: true}
		}
	}
	return st, nil
}

func checkInfo(f Format, sampleRate, channels int) error {
	if channels < 1 || channels > maxChannels {
		return corrupt(f, fmt.Sprintf("channel count %d outside 1..%d", channels, maxChannels), nil)
	}
	if sampleRate < minSampleRate || sampleRate > maxSampleRate {
		return corrupt(f, fmt.Sprintf("sample rate %d Hz outside %d..%d", sampleRate, minSampleRate, maxSampleRate), nil)
	}
	return nil
}

type stream struct {
	info       StreamInfo
	dec        decoder
	maxSeconds float64
	frames     int64
	err        error
}

func (s *stream) Info() StreamInfo { return s.info }

func (s *stream) ReadFrames(dst []float64) (n int, err error) {
	if s.err != nil {
		return 0, s.err
	}
	ch := s.info.Channels
	dst = dst[:len(dst)/ch*ch]
	if len(dst) == 0 {
		return 0, errors.New("audio: ReadFrames buffer smaller than one frame")
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				n, err = 0, corrupt(s.info.Format, "decoder failed", fmt.Errorf("%v", p))
			}
		}()
		n, err = s.dec.read(dst)
	}()
	s.frames += int64(n)
	if err == nil && n == 0 {
		err = io.EOF
	}
	if s.maxSeconds > 0 && float64(s.frames)/float64(s.info.SampleRate) > s.maxSeconds {
		n, err = 0, &TooLongError{MaxSeconds: s.maxSeconds, Seconds: float64(s.frames) / float64(s.info.SampleRate)}
	}
	if err != nil {
		s.err = err
		if n > 0 {
			// Hand over the frames decoded before the end or the fault;
			// the error comes on the next call.
			return n, nil
		}
	}
	return n, err
}

func (s *stream) Close() error { return s.dec.close() }

// ffmpegAvailable reports the ffmpeg binary to use, or "" when none.
func ffmpegAvailable(opts Options) string {
	if opts.DisableFFmpeg {
		return ""
	}
	name := opts.FFmpegPath
	if name == "" {
		name = "ffmpeg"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}
