package audio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// WAVE format tags (RFC 2361; Microsoft WAVEFORMATEXTENSIBLE).
const (
	wavTagPCM        = 0x0001
	wavTagFloat      = 0x0003
	wavTagExtensible = 0xFFFE
)

// wavUnknownSize is what streaming writers (ffmpeg to a pipe) put in the
// RIFF and data sizes when they cannot seek back to fill them in.
const wavUnknownSize = 0xFFFFFFFF

type wavHeader struct {
	tag        uint16 // effective tag: the subformat for extensible files
	channels   int
	sampleRate int
	blockAlign int
	bits       int
	dataSize   int64 // -1 when unknown
}

// openWAV parses the RIFF chunks up to "data" itself, because
// go-audio/wav needs an io.ReadSeeker (it seeks back when other chunks
// precede "fmt "), ignores the format tag and the extensible subformat
// GUID, reads 32-bit float samples as int32 and rejects 64-bit float, and
// reads past the end of the data chunk. Integer PCM samples then go
// through go-audio/wav over a canonical header; float data is read here.
func openWAV(r *bufio.Reader) (decoder, StreamInfo, error) {
	h, err := readWAVHeader(r)
	if err != nil {
		return nil, StreamInfo{}, err
	}
	info := StreamInfo{SampleRate: h.sampleRate, Channels: h.channels, BitDepth: h.bits, Frames: -1}
	if h.dataSize >= 0 {
		info.Frames = h.dataSize / int64(h.blockAlign)
	}
	data := &frameReader{r: r, frameBytes: h.blockAlign, remaining: h.dataSize}
	switch {
	case h.tag == wavTagFloat && (h.bits == 32 || h.bits == 64):
		return &wavFloatDecoder{src: data, h: h}, info, nil
	case h.tag == wavTagPCM && (h.bits == 8 || h.bits == 16 || h.bits == 24 || h.bits == 32):
		return newWAVPCMDecoder(data, h), info, nil
	}
	return nil, StreamInfo{}, &UnsupportedFormatError{
		Detected: FormatWAV, Accepted: NativeFormats,
		Reason: fmt.Sprintf("WAV format tag 0x%04x with %d-bit samples (PCM 8/16/24/32 and float 32/64 are read)", h.tag, h.bits),
	}
}

func readWAVHeader(r io.Reader) (wavHeader, error) {
	var h wavHeader
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return h, truncated(FormatWAV, "RIFF header", err)
	}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return h, truncated(FormatWAV, "no data chunk before the end", err)
		}
		id, size := string(ch[0:4]), int64(le32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return h, corrupt(FormatWAV, fmt.Sprintf("fmt chunk of %d bytes", size), nil)
			}
			buf := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, buf); err != nil {
				return h, truncated(FormatWAV, "fmt chunk", err)
			}
			h.tag = le16(buf[0:2])
			h.channels = int(le16(buf[2:4]))
			h.sampleRate = int(le32(buf[4:8]))
			h.blockAlign = int(le16(buf[12:14]))
			h.bits = int(le16(buf[14:16]))
			if h.tag == wavTagExtensible {
				// WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) mask(4) GUID(16);
				// the GUID's first two bytes are the real format tag.
				if size < 40 {
					return h, corrupt(FormatWAV, "extensible fmt chunk shorter than 40 bytes", nil)
				}
				h.tag = le16(buf[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return h, corrupt(FormatWAV, "data chunk before fmt chunk", nil)
			}
			if err := checkInfo(FormatWAV, h.sampleRate, h.channels); err != nil {
				return h, err
			}
			if h.bits < 1 || h.bits > 64 || h.blockAlign != h.channels*((h.bits+7)/8) {
				return h, corrupt(FormatWAV, fmt.Sprintf("block align %d does not fit %d channels of %d bits", h.blockAlign, h.channels, h.bits), nil)
			}
			h.dataSize = size
			if size == wavUnknownSize || size == 0 {
				h.dataSize = -1 // streamed: read to the end
			}
			return h, nil
		default:
			// Skip LIST, bext, fact, JUNK…; chunks are padded to even sizes.
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return h, truncated(FormatWAV, fmt.Sprintf("%q chunk", id), err)
			}
		}
	}
}

// frameReader limits reads to the data chunk and returns only whole
// frames, so that a short read from the source can never split a sample
// (go-audio/wav decodes whatever one Read returns as whole samples).
type frameReader struct {
	r          io.Reader
	frameBytes int
	remaining  int64 // -1: until EOF
	err        error
}

func (f *frameReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	want := int64(len(p) / f.frameBytes * f.frameBytes)
	if f.remaining >= 0 && want > f.remaining {
		want = f.remaining / int64(f.frameBytes) * int64(f.frameBytes)
	}
	if want == 0 {
		if f.remaining > 0 && f.remaining < int64(f.frameBytes) {
			// A partial frame at the end of the chunk: drop it.
			f.remaining = 0
		}
		f.err = io.EOF
		return 0, io.EOF
	}
	n, err := io.ReadFull(f.r, p[:want])
	whole := n / f.frameBytes * f.frameBytes
	if f.remaining >= 0 {
		f.remaining -= int64(n)
	}
	switch {
	case err == nil:
	case f.remaining < 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		// Unknown length: the end of the input is the end of the data.
		// A trailing partial frame is dropped.
		f.err = io.EOF
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		f.err = truncated(FormatWAV, fmt.Sprintf("data chunk ends %d bytes early", f.remaining), nil)
	default:
		f.err = err
	}
	if whole == 0 && f.err != nil {
		return 0, f.err
	}
	return whole, nil
}

// wavPCMDecoder feeds go-audio/wav a canonical 16-byte PCM header followed
// by the data chunk, so it never needs to seek.
type wavPCMDecoder struct {
	src   *frameReader
	dec   *wav.Decoder
	buf   *audio.IntBuffer
	scale float64
	bias  float64
	ch    int
}

type noSeek struct{ io.Reader }

func (noSeek) Seek(int64, int) (int64, error) { return 0, errors.New("audio: not seekable") }

func newWAVPCMDecoder(src *frameReader, h wavHeader) *wavPCMDecoder {
	var hdr bytes.Buffer
	hdr.WriteString("RIFF")
	_ = binary.Write(&hdr, binary.LittleEndian, uint32(wavUnknownSize))
	hdr.WriteString("WAVEfmt ")
	for _, v := range []any{
		uint32(16), uint16(wavTagPCM), uint16(h.channels), uint32(h.sampleRate),
		uint32(h.sampleRate * h.blockAlign), uint16(h.blockAlign), uint16(h.bits),
	} {
		_ = binary.Write(&hdr, binary.LittleEndian, v)
	}
	hdr.WriteString("data")
	// Even, because go-audio/wav rounds odd sizes up and 0xFFFFFFFF would
	// wrap to zero; frameReader enforces the real size.
	_ = binary.Write(&hdr, binary.LittleEndian, uint32(wavUnknownSize-1))
	d := &wavPCMDecoder{
		src:   src,
		dec:   wav.NewDecoder(noSeek{io.MultiReader(&hdr, src)}),
		buf:   &audio.IntBuffer{},
		scale: 1 / math.Exp2(float64(h.bits-1)),
		ch:    h.channels,
	}
	if h.bits == 8 {
		// 8-bit WAV is unsigned with 128 as zero.
		d.bias = -128
	}
	return d
}

func (d *wavPCMDecoder) read(dst []float64) (int, error) {
	if cap(d.buf.Data) < len(dst) {
		d.buf.Data = make([]int, len(dst))
	}
	d.buf.Data = d.buf.Data[:len(dst)]
	n, err := d.dec.PCMBuffer(d.buf)
	if err != nil {
		if d.src.err != nil && d.src.err != io.EOF {
			return 0, d.src.err
		}
		return 0, corrupt(FormatWAV, "PCM data", err)
	}
	n = n / d.ch * d.ch
	for i, v := range d.buf.Data[:n] {
		dst[i] = (float64(v) + d.bias) * d.scale
	}
	if n == 0 && d.src.err != nil && d.src.err != io.EOF {
		return 0, d.src.err
	}
	return n / d.ch, nil
}

func (d *wavPCMDecoder) close() error { return nil }

// maxFloatSample is +120 dBFS.
const maxFloatSample = 1e6

// wavFloatDecoder reads IEEE float samples (format tag 3).
type wavFloatDecoder struct {
	src *frameReader
	h   wavHeader
	raw []byte
}

func (d *wavFloatDecoder) read(dst []float64) (int, error) {
	bps := d.h.bits / 8
	frames := len(dst) / d.h.channels
	need := frames * d.h.blockAlign
	if cap(d.raw) < need {
		d.raw = make([]byte, need)
	}
	n, err := d.src.Read(d.raw[:need])
	if n == 0 {
		if err == io.EOF {
			return 0, nil
		}
		return 0, err
	}
	samples := n / bps
	for i := 0; i < samples; i++ {
		b := d.raw[i*bps:]
		var v float64
		if bps == 4 {
			v = float64(math.Float32frombits(le32(b)))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		// Float WAV may exceed full scale, but not by 120 dB: such values
		// (and NaN/Inf) are garbage, and would overflow the meters' sums.
		if !(math.Abs(v) <= maxFloatSample) {
			return 0, corrupt(FormatWAV, fmt.Sprintf("float sample %g is NaN, infinite or beyond +120 dBFS", v), nil)
		}
		dst[i] = v
	}
	return n / d.h.blockAlign, nil
}

func (d *wavFloatDecoder) close() error { return nil }
