// Package audio decodes audio files as a stream of float64 blocks and
// measures them in one pass the way a mastering meter does: BS.1770-4
// loudness and true peak, EBU Tech 3342 loudness range, levels, stereo
// image, clipping, silence, tempo, key, sections and an optional vocal
// pitch estimate.
//
// It knows nothing of HTTP or of the rest of Jarvis: it imports only the
// standard library and the pure-Go decoders below, and runs `ffmpeg` only
// as a fallback for formats those decoders do not read.
//
//   - WAV: RIFF parsing here; integer PCM samples through go-audio/wav,
//     float and 64-bit data read here (see wav.go for why).
//   - FLAC: github.com/mewkiz/flac
//   - MP3: github.com/hajimehoshi/go-mp3
//   - Ogg Vorbis: github.com/jfreymuth/oggvorbis
//
// Memory does not grow with the length of the input while decoding; the
// analysis keeps only per-frame features (a few floats every 12–190 ms),
// about 3 MB for a 15-minute track.
package audio
