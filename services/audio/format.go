package audio

import (
	"bytes"
	"encoding/binary"
)

// Format names a container/codec recognised from its magic numbers.
type Format string

// Formats recognised by Detect. Only the first four decode without ffmpeg.
const (
	FormatWAV       Format = "wav"
	FormatFLAC      Format = "flac"
	FormatMP3       Format = "mp3"
	FormatOggVorbis Format = "ogg-vorbis"
	FormatOggOpus   Format = "ogg-opus"
	FormatOggFLAC   Format = "ogg-flac"
	FormatOgg       Format = "ogg" // Ogg with an unrecognised first stream
	FormatAIFF      Format = "aiff"
	FormatMP4       Format = "mp4" // ISO base media (M4A, MP4, 3GP…)
	FormatAAC       Format = "aac-adts"
	FormatMP2       Format = "mpeg-layer1-2"
	FormatRF64      Format = "rf64"
	FormatUnknown   Format = "unknown"
)

// NativeFormats are decoded in-process by pure-Go decoders.
var NativeFormats = []Format{FormatWAV, FormatFLAC, FormatMP3, FormatOggVorbis}

// detectPeekBytes is how much of the input Detect needs to see.
const detectPeekBytes = 64

// Detect names the format of an input from its first bytes (64 suffice).
func Detect(head []byte) Format {
	switch {
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return FormatWAV
	case len(head) >= 12 && string(head[0:4]) == "RF64" && string(head[8:12]) == "WAVE":
		return FormatRF64
	case len(head) >= 4 && string(head[0:4]) == "fLaC":
		return FormatFLAC
	case len(head) >= 12 && string(head[0:4]) == "FORM" && (string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC"):
		return FormatAIFF
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return FormatMP4
	case len(head) >= 4 && string(head[0:4]) == "OggS":
		return detectOgg(head)
	case len(head) >= 3 && string(head[0:3]) == "ID3":
		// An ID3v2 tag almost always precedes MPEG audio; FLAC with a
		// leading ID3 tag is rare enough to leave to the MP3 decoder's error.
		return FormatMP3
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0:
		return detectMPEGSync(head[1])
	}
	return FormatUnknown
}

// detectMPEGSync tells MPEG audio frames from AAC ADTS by the layer bits
// that follow the 11/12-bit sync word (ISO 11172-3 §2.4.2.3; ISO 13818-7 ADTS).
func detectMPEGSync(b1 byte) Format {
	layer := (b1 >> 1) & 0x3
	version := (b1 >> 3) & 0x3
	switch {
	case b1&0xF6 == 0xF0: // 12-bit sync, layer 00: ADTS
		return FormatAAC
	case layer == 1 && version != 1: // layer III, version not reserved
		return FormatMP3
	case layer == 2 || layer == 3:
		return FormatMP2
	}
	return FormatUnknown
}

// detectOgg reads the first packet of the first Ogg page (RFC 3533 §6):
// 27 header bytes, then a segment table whose length is byte 26.
func detectOgg(head []byte) Format {
	if len(head) < 27 {
		return FormatOgg
	}
	start := 27 + int(head[26])
	if start >= len(head) {
		return FormatOgg
	}
	pkt := head[start:]
	switch {
	case bytes.HasPrefix(pkt, []byte("\x01vorbis")):
		return FormatOggVorbis
	case bytes.HasPrefix(pkt, []byte("OpusHead")):
		return FormatOggOpus
	case bytes.HasPrefix(pkt, []byte("\x7fFLAC")):
		return FormatOggFLAC
	}
	return FormatOgg
}

// le16/le32 read little-endian integers; callers check lengths.
func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
