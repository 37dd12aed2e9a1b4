package audio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hajimehoshi/go-mp3"
	"github.com/jfreymuth/oggvorbis"
	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
)

// ---- FLAC (github.com/mewkiz/flac) ----

type flacDecoder struct {
	s       *flac.Stream
	ch      int
	scale   float64
	pending *frame.Frame // frame partly handed out
	pos     int          // next sample index within pending
	frames  int64        // frames decoded so far
	total   int64        // declared length, 0 when unknown
}

func openFLAC(r *bufio.Reader) (decoder, StreamInfo, error) {
	s, err := flac.New(r)
	if err != nil {
		return nil, StreamInfo{}, flacErr("stream header", err)
	}
	si := s.Info
	if err := checkInfo(FormatFLAC, int(si.SampleRate), int(si.NChannels)); err != nil {
		return nil, StreamInfo{}, err
	}
	if si.BitsPerSample < 4 || si.BitsPerSample > 32 {
		return nil, StreamInfo{}, corrupt(FormatFLAC, fmt.Sprintf("%d bits per sample", si.BitsPerSample), nil)
	}
	info := StreamInfo{SampleRate: int(si.SampleRate), Channels: int(si.NChannels), BitDepth: int(si.BitsPerSample), Frames: -1}
	if si.NSamples > 0 && si.NSamples < math.MaxInt64 {
		info.Frames = int64(si.NSamples)
	}
	d := &flacDecoder{s: s, ch: info.Channels, scale: 1 / math.Exp2(float64(si.BitsPerSample-1)), total: max(info.Frames, 0)}
	return d, info, nil
}

func flacErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return truncated(FormatFLAC, what, err)
	}
	return corrupt(FormatFLAC, what, err)
}

func (d *flacDecoder) read(dst []float64) (int, error) {
	frames := len(dst) / d.ch
	out := 0
	for out < frames {
		if d.pending == nil {
			f, err := d.s.ParseNext()
			if err == io.EOF {
				if d.total > 0 && d.frames < d.total {
					return out, truncated(FormatFLAC, fmt.Sprintf("stream ends after %d of %d samples", d.frames, d.total), nil)
				}
				return out, nil
			}
			if err != nil {
				return out, flacErr("audio frame", err)
			}
			if len(f.Subframes) != d.ch {
				return out, corrupt(FormatFLAC, fmt.Sprintf("frame has %d channels, stream %d", len(f.Subframes), d.ch), nil)
			}
			for _, sf := range f.Subframes {
				if len(sf.Samples) != int(f.BlockSize) {
					return out, corrupt(FormatFLAC, "subframe length differs from block size", nil)
				}
			}
			d.pending, d.pos = f, 0
		}
		f := d.pending
		n := min(int(f.BlockSize)-d.pos, frames-out)
		for c, sf := range f.Subframes {
			src := sf.Samples[d.pos : d.pos+n]
			for i, v := range src {
				dst[(out+i)*d.ch+c] = float64(v) * d.scale
			}
		}
		d.pos += n
		out += n
		d.frames += int64(n)
		if d.pos >= int(f.BlockSize) {
			d.pending = nil
		}
	}
	return out, nil
}

func (d *flacDecoder) close() error { return nil }

// ---- MP3 (github.com/hajimehoshi/go-mp3) ----

// go-mp3 always outputs 16-bit little-endian stereo.
type mp3Decoder struct {
	d   *mp3.Decoder
	raw []byte
}

func openMP3(r *bufio.Reader) (decoder, StreamInfo, error) {
	d, err := mp3.NewDecoder(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, StreamInfo{}, truncated(FormatMP3, "no complete frame", err)
		}
		return nil, StreamInfo{}, corrupt(FormatMP3, "first frame", err)
	}
	if err := checkInfo(FormatMP3, d.SampleRate(), 2); err != nil {
		return nil, StreamInfo{}, err
	}
	return &mp3Decoder{d: d}, StreamInfo{SampleRate: d.SampleRate(), Channels: 2, Frames: -1}, nil
}

func (m *mp3Decoder) read(dst []float64) (int, error) {
	need := len(dst) / 2 * 4
	if cap(m.raw) < need {
		m.raw = make([]byte, need)
	}
	n, err := io.ReadFull(m.d, m.raw[:need])
	n = n / 4 * 4
	for i := 0; i < n/2; i++ {
		dst[i] = float64(int16(uint16(m.raw[2*i])|uint16(m.raw[2*i+1])<<8)) / 32768
	}
	switch {
	case err == nil, err == io.EOF, err == io.ErrUnexpectedEOF:
		// go-mp3 reports a cut-off last frame as a clean end; so do we.
		return n / 4, nil
	default:
		return n / 4, corrupt(FormatMP3, "audio frame", err)
	}
}

func (m *mp3Decoder) close() error { return nil }

// ---- Ogg Vorbis (github.com/jfreymuth/oggvorbis) ----

type vorbisDecoder struct {
	r   *oggvorbis.Reader
	ch  int
	buf []float32
}

func openVorbis(r *bufio.Reader) (decoder, StreamInfo, error) {
	v, err := oggvorbis.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, StreamInfo{}, truncated(FormatOggVorbis, "headers", err)
		}
		return nil, StreamInfo{}, corrupt(FormatOggVorbis, "headers", err)
	}
	if err := checkInfo(FormatOggVorbis, v.SampleRate(), v.Channels()); err != nil {
		return nil, StreamInfo{}, err
	}
	return &vorbisDecoder{r: v, ch: v.Channels()}, StreamInfo{SampleRate: v.SampleRate(), Channels: v.Channels(), Frames: -1}, nil
}

func (v *vorbisDecoder) read(dst []float64) (int, error) {
	want := len(dst) / v.ch * v.ch
	if cap(v.buf) < want {
		v.buf = make([]float32, want)
	}
	got := 0
	for got < want {
		n, err := v.r.Read(v.buf[got:want])
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			for i := range got / v.ch * v.ch {
				dst[i] = float64(v.buf[i])
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return got / v.ch, truncated(FormatOggVorbis, "audio packet", err)
			}
			return got / v.ch, corrupt(FormatOggVorbis, "audio packet", err)
		}
		if n == 0 {
			break
		}
	}
	got = got / v.ch * v.ch
	for i := range got {
		dst[i] = float64(v.buf[i])
	}
	return got / v.ch, nil
}

func (v *vorbisDecoder) close() error { return nil }
