package audio

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readAll(t testing.TB, s Stream) []float64 {
	t.Helper()
	var out []float64
	buf := make([]float64, 1000*s.Info().Channels) // odd size: blocks straddle frames
	for {
		n, err := s.ReadFrames(buf)
		out = append(out, buf[:n*s.Info().Channels]...)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
	}
}

func TestWAVVariantsDecode(t *testing.T) {
	rate := 44100
	x := sine(441, 0.5, rate, 0.5, 0, 1)
	cases := []struct {
		enc wavEncoding
		tol float64 // quantisation step
	}{
		{wavEncoding{name: "pcm8", bits: 8}, 1.0 / 128},
		{wavEncoding{name: "pcm16", bits: 16}, 1.0 / 32768},
		{wavEncoding{name: "pcm24", bits: 24}, 1.0 / (1 << 23)},
		{wavEncoding{name: "pcm32", bits: 32}, 1.0 / (1 << 31)},
		{wavEncoding{name: "float32", bits: 32, float: true}, 1e-7},
		{wavEncoding{name: "float64", bits: 64, float: true}, 1e-15},
		{wavEncoding{name: "extensible-pcm24", bits: 24, extensible: true}, 1.0 / (1 << 23)},
		{wavEncoding{name: "extensible-float32", bits: 32, float: true, extensible: true}, 1e-7},
	}
	for _, c := range cases {
		t.Run(c.enc.name, func(t *testing.T) {
			s, err := Open(bytes.NewReader(writeWAV(x, 2, rate, c.enc)), Options{DisableFFmpeg: true})
			require.NoError(t, err)
			info := s.Info()
			assert.Equal(t, FormatWAV, info.Format)
			assert.Equal(t, rate, info.SampleRate)
			assert.Equal(t, 2, info.Channels)
			assert.Equal(t, c.enc.bits, info.BitDepth)
			assert.Equal(t, int64(len(x)/2), info.Frames)
			got := readAll(t, s)
			require.Len(t, got, len(x))
			for i := range x {
				if math.Abs(got[i]-x[i]) > c.tol {
					t.Fatalf("sample %d: %v, want %v ± %v", i, got[i], x[i], c.tol)
				}
			}
		})
	}
}

// ffmpegEncode writes a WAV and converts it with ffmpeg to ext.
func ffmpegEncode(t *testing.T, x []float64, ch, rate int, ext string, args ...string) []byte {
	t.Helper()
	bin := needFFmpeg(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out."+ext)
	require.NoError(t, os.WriteFile(in, writeWAV(x, ch, rate, pcm16), 0o600))
	cmdArgs := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-i", in}, args...)
	cmd := exec.Command(bin, append(cmdArgs, out)...)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, string(msg))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}

// TestCompressedFormatsDecode generates FLAC, MP3 and Ogg Vorbis with
// ffmpeg and checks each decodes to the tone (level within 0.5 dB for the
// lossy codecs, exactly for FLAC).
func TestCompressedFormatsDecode(t *testing.T) {
	needFFmpeg(t)
	rate := 44100
	x := sine(1000, 0.5, rate, 2, 0, 0)
	cases := []struct {
		format   Format
		ext      string
		args     []string
		bitDepth int
	}{
		{FormatFLAC, "flac", nil, 16},
		{FormatFLAC, "flac", []string{"-sample_fmt", "s32", "-bits_per_raw_sample", "24"}, 24},
		{FormatMP3, "mp3", []string{"-c:a", "libmp3lame", "-b:a", "192k"}, 0},
		{FormatOggVorbis, "ogg", []string{"-c:a", "libvorbis", "-q:a", "5"}, 0},
	}
	for _, c := range cases {
		t.Run(string(c.format)+"-"+c.ext+"-"+string(rune('0'+c.bitDepth/8)), func(t *testing.T) {
			b := ffmpegEncode(t, x, 2, rate, c.ext, c.args...)
			assert.Equal(t, c.format, Detect(b))
			s, err := Open(bytes.NewReader(b), Options{DisableFFmpeg: true})
			require.NoError(t, err)
			assert.Equal(t, c.format, s.Info().Format)
			assert.Equal(t, c.bitDepth, s.Info().BitDepth)
			assert.False(t, s.Info().ViaFFmpeg)
			r, err := Analyze(s, AnalyzeOptions{})
			require.NoError(t, err)
			assert.InDelta(t, 2.0, r.DurationSeconds, 0.1)
			assert.InDelta(t, 20*math.Log10(0.5/math.Sqrt2), r.RmsDbfs, 0.5)
			if c.format == FormatFLAC {
				assert.InDelta(t, 20*math.Log10(0.5), r.SamplePeakDbfs, 0.01)
			}
		})
	}
}

// Formats without a pure-Go decoder go through ffmpeg when it is there,
// and give a typed, named error when it is not.
func TestFallbackFormats(t *testing.T) {
	needFFmpeg(t)
	x := sine(1000, 0.5, 48000, 1, 0, 0)
	cases := []struct {
		format Format
		ext    string
		args   []string
	}{
		{FormatAIFF, "aiff", nil},
		{FormatOggOpus, "opus", []string{"-c:a", "libopus"}},
		{FormatMP4, "m4a", []string{"-c:a", "aac"}},
		{FormatAAC, "aac", []string{"-c:a", "aac", "-f", "adts"}},
	}
	for _, c := range cases {
		t.Run(string(c.format), func(t *testing.T) {
			b := ffmpegEncode(t, x, 2, 48000, c.ext, c.args...)
			assert.Equal(t, c.format, Detect(b))

			_, err := Open(bytes.NewReader(b), Options{DisableFFmpeg: true})
			var uf *UnsupportedFormatError
			require.ErrorAs(t, err, &uf)
			assert.ErrorIs(t, err, ErrUnsupportedFormat)
			assert.Equal(t, c.format, uf.Detected)
			assert.Contains(t, err.Error(), string(c.format))
			assert.Contains(t, err.Error(), "flac")

			s, err := Open(bytes.NewReader(b), Options{})
			require.NoError(t, err)
			assert.True(t, s.Info().ViaFFmpeg)
			r, err := Analyze(s, AnalyzeOptions{})
			require.NoError(t, err)
			require.NoError(t, s.Close())
			assert.InDelta(t, 1.0, r.DurationSeconds, 0.1)
			assert.InDelta(t, 20*math.Log10(0.5/math.Sqrt2), r.RmsDbfs, 0.5)
		})
	}
}

func TestDetect(t *testing.T) {
	ogg := func(pkt string) []byte {
		h := append([]byte("OggS"), make([]byte, 22)...)
		h = append(h, 1, byte(len(pkt)))
		return append(h, pkt...)
	}
	cases := map[string]struct {
		head []byte
		want Format
	}{
		"wav":     {[]byte("RIFF\x00\x00\x00\x00WAVEfmt "), FormatWAV},
		"rf64":    {[]byte("RF64\xff\xff\xff\xffWAVEds64"), FormatRF64},
		"flac":    {[]byte("fLaC\x00\x00\x00\x22"), FormatFLAC},
		"id3":     {[]byte("ID3\x04\x00\x00"), FormatMP3},
		"mp3":     {[]byte{0xFF, 0xFB, 0x90, 0x64}, FormatMP3},
		"mpeg2l3": {[]byte{0xFF, 0xF3, 0x90, 0x64}, FormatMP3},
		"mp2":     {[]byte{0xFF, 0xFD, 0x90, 0x64}, FormatMP2},
		"adts":    {[]byte{0xFF, 0xF1, 0x50, 0x80}, FormatAAC},
		"vorbis":  {ogg("\x01vorbis"), FormatOggVorbis},
		"opus":    {ogg("OpusHead"), FormatOggOpus},
		"oggflac": {ogg("\x7fFLAC"), FormatOggFLAC},
		"ogg":     {ogg("\x80theora"), FormatOgg},
		"aiff":    {[]byte("FORM\x00\x00\x00\x00AIFFCOMM"), FormatAIFF},
		"aifc":    {[]byte("FORM\x00\x00\x00\x00AIFCFVER"), FormatAIFF},
		"m4a":     {[]byte("\x00\x00\x00\x20ftypM4A "), FormatMP4},
		"text":    {[]byte("hello world"), FormatUnknown},
		"empty":   {nil, FormatUnknown},
	}
	for name, c := range cases {
		assert.Equal(t, c.want, Detect(c.head), name)
	}
}

func TestTypedErrors(t *testing.T) {
	good := writeWAV(sine(440, 0.5, 8000, 1, 0), 1, 8000, pcm16)
	badFmt := bytes.Clone(good)
	copy(badFmt[22:24], []byte{0, 0}) // zero channels
	oddAlign := bytes.Clone(good)
	copy(oddAlign[32:34], []byte{3, 0}) // block align 3 for mono 16-bit
	noData := good[:44]                 // headers, then the data chunk is cut
	cases := []struct {
		name  string
		input []byte
		is    error
		open  bool // the error comes from Open (else while reading)
	}{
		{"empty", nil, ErrTruncated, true},
		{"text", []byte("this is not audio at all, just words"), ErrUnsupportedFormat, true},
		{"wav header only", good[:20], ErrTruncated, true},
		{"wav zero channels", badFmt, ErrCorrupt, true},
		{"wav bad block align", oddAlign, ErrCorrupt, true},
		{"wav data cut short", good[:len(good)-1001], ErrTruncated, false},
		{"wav no data bytes", noData[:len(noData)-4], ErrTruncated, true},
		{"flac garbage", append([]byte("fLaC"), bytes.Repeat([]byte{0xA5}, 100)...), ErrCorrupt, true},
		{"mp3 garbage", append([]byte{0xFF, 0xFB}, bytes.Repeat([]byte{0x11}, 50)...), ErrCorrupt, true},
		{"vorbis garbage", append([]byte("OggS\x00\x02"), bytes.Repeat([]byte{0}, 60)...), ErrUnsupportedFormat, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(bytes.NewReader(c.input), Options{DisableFFmpeg: true})
			if !c.open {
				require.NoError(t, err)
				for err == nil {
					_, err = s.ReadFrames(make([]float64, 256))
				}
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, c.is, "%v", err)
			if errors.Is(c.is, ErrTruncated) {
				assert.ErrorIs(t, err, ErrCorrupt, "truncated is a kind of corrupt")
			}
		})
	}
}

func TestTruncatedFLACIsTyped(t *testing.T) {
	b := ffmpegEncode(t, sine(440, 0.5, 44100, 3, 0, 0), 2, 44100, "flac")
	s, err := Open(bytes.NewReader(b[:len(b)/2]), Options{DisableFFmpeg: true})
	require.NoError(t, err)
	_, err = Analyze(s, AnalyzeOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestMaxSeconds(t *testing.T) {
	wavBytes := writeWAV(sine(440, 0.5, 8000, 5, 0), 1, 8000, pcm16)
	// From the header: rejected at Open.
	_, err := Open(bytes.NewReader(wavBytes), Options{MaxSeconds: 4})
	var tl *TooLongError
	require.ErrorAs(t, err, &tl)
	assert.True(t, tl.FromHeader)
	assert.InDelta(t, 5, tl.Seconds, 1e-9)
	assert.ErrorIs(t, err, ErrTooLong)

	// Streamed (unknown data size, as a pipe writes it): rejected while
	// reading, just after the limit.
	streamed := bytes.Clone(wavBytes)
	at := bytes.Index(streamed, []byte("data")) + 4
	copy(streamed[at:], []byte{0xFF, 0xFF, 0xFF, 0xFF})
	s, err := Open(bytes.NewReader(streamed), Options{MaxSeconds: 4})
	require.NoError(t, err)
	assert.Equal(t, int64(-1), s.Info().Frames)
	_, err = Analyze(s, AnalyzeOptions{})
	require.ErrorAs(t, err, &tl)
	assert.False(t, tl.FromHeader)
	assert.ErrorIs(t, err, ErrTooLong)

	// Under the limit: fine.
	s, err = Open(bytes.NewReader(wavBytes), Options{MaxSeconds: 5.5})
	require.NoError(t, err)
	_, err = Analyze(s, AnalyzeOptions{})
	require.NoError(t, err)
}

// fuzzSeeds are small valid and broken inputs of every decoder.
func fuzzSeeds(t testing.TB) [][]byte {
	x := sine(440, 0.5, 8000, 0.05, 0, 1)
	seeds := [][]byte{
		writeWAV(x, 2, 8000, pcm16),
		writeWAV(x, 2, 8000, wavEncoding{bits: 8}),
		writeWAV(x, 2, 8000, wavEncoding{bits: 24, extensible: true}),
		writeWAV(x, 2, 8000, wavEncoding{bits: 64, float: true}),
		[]byte("fLaC"), []byte("ID3\x03\x00\x00\x00\x00\x00\x10"), {0xFF, 0xFB, 0x90, 0x64},
		[]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e\x01vorbis"),
		[]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00data\x00\x00\x00\x00"),
	}
	if bin, err := exec.LookPath("ffmpeg"); err == nil {
		// FLAC is generated, not committed: ffmpeg pads FLAC headers to 8 KB.
		cmd := exec.Command(bin, "-nostdin", "-loglevel", "error", "-f", "lavfi",
			"-i", "sine=frequency=440:sample_rate=8000:duration=0.1", "-c:a", "flac", "-f", "flac", "pipe:1")
		if b, err := cmd.Output(); err == nil {
			seeds = append(seeds, b, b[:len(b)/2], flipBytes(b))
		}
	}
	for _, name := range []string{"tone.mp3", "tone.ogg"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			seeds = append(seeds, b, b[:len(b)/2], flipBytes(b))
		} else {
			t.Logf("seed %s missing: %v", name, err)
		}
	}
	return seeds
}

func flipBytes(b []byte) []byte {
	c := bytes.Clone(b)
	for i := len(c) / 3; i < len(c); i += 97 {
		c[i] ^= 0x5A
	}
	return c
}

// FuzzOpen: any input either decodes or fails with an error; it never
// panics, hangs or allocates without bound, and whatever decodes analyses
// to a report that encodes as JSON (no NaN or Inf). The seeds run in
// `go test`.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Open(bytes.NewReader(b), Options{DisableFFmpeg: true, MaxSeconds: 60})
		if err != nil {
			return
		}
		defer s.Close()
		if len(b)%2 == 0 {
			buf := make([]float64, 512*s.Info().Channels)
			for range 10000 {
				if _, err := s.ReadFrames(buf); err != nil {
					return
				}
			}
			return
		}
		r, err := Analyze(s, AnalyzeOptions{Vocals: true})
		if err != nil {
			return
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("report does not encode: %v", err)
		}
	})
}

func TestFFmpegFallbackCorruptInputIsTyped(t *testing.T) {
	needFFmpeg(t)
	// AIFF magic with garbage behind it: ffmpeg fails, we say corrupt.
	b := append([]byte("FORM\x00\x00\x10\x00AIFFCOMM"), bytes.Repeat([]byte{0x42}, 200)...)
	s, err := Open(bytes.NewReader(b), Options{})
	if err == nil {
		_, err = Analyze(s, AnalyzeOptions{})
		_ = s.Close()
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "aiff")
}

// Readers that return one byte at a time, or fail mid-stream, must give
// the same samples or a returned error (never split samples or hang).
func TestAwkwardReaders(t *testing.T) {
	x := sine(441, 0.5, 8000, 0.3, 0, 1)
	for _, enc := range []wavEncoding{pcm16, {bits: 24}, f32} {
		b := writeWAV(x, 2, 8000, enc)
		s, err := Open(iotest.OneByteReader(bytes.NewReader(b)), Options{DisableFFmpeg: true})
		require.NoError(t, err)
		got := readAll(t, s)
		require.Len(t, got, len(x))
		assert.InDelta(t, x[1234], got[1234], 1e-4)

		broken := errors.New("connection reset")
		failing := io.MultiReader(bytes.NewReader(b[:len(b)/2]), iotest.ErrReader(broken))
		s, err = Open(failing, Options{DisableFFmpeg: true})
		require.NoError(t, err)
		_, err = Analyze(s, AnalyzeOptions{})
		assert.ErrorIs(t, err, broken)
	}
}
