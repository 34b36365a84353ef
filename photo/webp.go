package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// WebP container (RIFF, https://developers.google.com/speed/webp/docs/riff_container).

// webpKept lists the chunks that survive stripping. VP8X is rewritten so its
// flags match what is left.
var webpKept = map[string]bool{
	"VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true,
	"ICCP": true, "VP8X": true,
}

// VP8X flag bits (RIFF container §"Extended File Format").
const (
	vp8xICC  = 0x20
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

type webpChunk struct {
	fourcc string
	off    int64 // offset of the payload in the file
	size   int64 // payload size, without the pad byte
}

func webpErr(off int64, format string, args ...any) error {
	return &FormatError{Format: WebP, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// webpChunks reads the RIFF header and the header of every chunk, without
// reading payloads, and returns the chunks and the end of the RIFF data.
func webpChunks(r io.ReaderAt, size int64) ([]webpChunk, int64, error) {
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, 0, formatErr(WebP, 0, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WEBP" {
		return nil, 0, webpErr(0, "missing RIFF WEBP header")
	}
	end := 8 + int64(binary.LittleEndian.Uint32(hdr[4:8]))
	if end > size {
		return nil, 0, &FormatError{Format: WebP, Offset: size, Msg: fmt.Sprintf("RIFF size says %d bytes but the file has %d (truncated, or still being copied?)", end, size)}
	}
	var chunks []webpChunk
	for off := int64(12); off < end; {
		if off+8 > end {
			return nil, 0, webpErr(off, "chunk header runs past the RIFF data")
		}
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return nil, 0, formatErr(WebP, off, err)
		}
		c := webpChunk{fourcc: string(ch[:4]), off: off + 8, size: int64(binary.LittleEndian.Uint32(ch[4:8]))}
		if c.off+c.size > end {
			return nil, 0, webpErr(off, "chunk %q of %d bytes runs past the RIFF data", c.fourcc, c.size)
		}
		if len(chunks) > 1<<20 {
			return nil, 0, webpErr(off, "too many chunks")
		}
		chunks = append(chunks, c)
		off = c.off + c.size + c.size&1
	}
	return chunks, end, nil
}

func readChunk(r io.ReaderAt, c webpChunk) ([]byte, error) {
	b := make([]byte, c.size)
	if _, err := r.ReadAt(b, c.off); err != nil {
		return nil, formatErr(WebP, c.off, err)
	}
	return b, nil
}

// webpTIFF returns the TIFF structure in an EXIF chunk; some writers put the
// JPEG-style "Exif\0\0" header in front of it.
func webpTIFF(p []byte) []byte {
	return bytes.TrimPrefix(p, []byte(exifHeader))
}

// webpSize reads the canvas size from VP8X, or from the VP8 or VP8L bitstream
// header of a simple-format file.
func webpSize(fourcc string, p []byte) (w, h int, ok bool) {
	switch fourcc {
	case "VP8X":
		if len(p) >= 10 {
			w = 1 + int(uint32(p[4])|uint32(p[5])<<8|uint32(p[6])<<16)
			h = 1 + int(uint32(p[7])|uint32(p[8])<<8|uint32(p[9])<<16)
			return w, h, true
		}
	case "VP8 ": // RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a
		if len(p) >= 10 && p[3] == 0x9d && p[4] == 0x01 && p[5] == 0x2a {
			return int(binary.LittleEndian.Uint16(p[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(p[8:]) & 0x3fff), true
		}
	case "VP8L": // WebP lossless bitstream §3.1: signature 0x2f, 14-bit sizes
		if len(p) >= 5 && p[0] == 0x2f {
			bits := binary.LittleEndian.Uint32(p[1:5])
			return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, true
		}
	}
	return 0, 0, false
}

// stripWebP writes a WebP holding only the allowlisted chunks. The RIFF size
// comes first in the file, so a first pass reads the chunk headers and a
// second copies the payloads; neither holds an image payload in memory.
func stripWebP(w io.Writer, r io.ReaderAt, size int64, res *Result) error {
	chunks, end, err := webpChunks(r, size)
	if err != nil {
		return err
	}
	if len(chunks) == 0 {
		return webpErr(12, "no chunks")
	}
	hasVP8X := chunks[0].fourcc == "VP8X"
	var orient keptOrientation
	hasICC, hasImage := false, false
	var icc []byte                // the kept profile, made neutral
	dropICC := map[int64]string{} // ICCP chunks not kept, by offset, and why
	total := int64(4)             // "WEBP"
	for i, c := range chunks {
		switch {
		case c.fourcc == "VP8X":
			if i != 0 || c.size < 10 {
				return webpErr(c.off, "misplaced or malformed VP8X chunk")
			}
		case (c.fourcc == "EXIF" && !orient.exifSeen || c.fourcc == "XMP ") && hasVP8X && c.size <= maxMetaChunk:
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			if c.fourcc == "EXIF" {
				orient.exif(webpTIFF(p))
			} else {
				orient.xmp(p)
			}
			continue
		}
		if !webpKept[c.fourcc] {
			continue
		}
		hasImage = hasImage || c.fourcc == "VP8 " || c.fourcc == "VP8L" || c.fourcc == "ANMF"
		switch c.fourcc {
		case "VP8X":
			total += 8 + 10
		case "ICCP":
			if hasICC || !hasVP8X || c.size > int64(maxICC) {
				dropICC[c.off] = "ICCP (misplaced or oversized)"
				continue
			}
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			clean, err := sanitizeICC(p)
			if err != nil {
				dropICC[c.off] = "ICCP (malformed ICC profile)"
				continue
			}
			hasICC, icc = true, clean
			if !bytes.Equal(clean, p) {
				res.Dropped = append(res.Dropped, "ICC profile text")
			}
			n := int64(len(clean))
			total += 8 + n + n&1
		default:
			total += 8 + c.size + c.size&1
		}
	}
	if !hasImage {
		return webpErr(12, "no image data chunk")
	}
	// The whole file has been read: XMP's orientation counts wherever it
	// is, and the EXIF chunk goes where the first EXIF or XMP chunk was,
	// after the image data as the container specifies.
	orient.flush()
	res.Orientation = orient.value()
	var exif []byte // the minimal EXIF chunk payload, if the photo is rotated
	if orient.written {
		exif = minimalTIFF(res.Orientation)
		total += 8 + int64(len(exif))
	}
	if total > 1<<32-1 {
		return webpErr(0, "file too large for RIFF")
	}
	var hdr [12]byte
	copy(hdr[:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(total))
	copy(hdr[8:], "WEBP")
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	writeHdr := func(fourcc string, n int64) error {
		var b [8]byte
		copy(b[:], fourcc)
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		_, err := w.Write(b[:])
		return err
	}
	exifWritten := false
	for _, c := range chunks {
		if why := dropICC[c.off]; why != "" {
			res.Dropped = append(res.Dropped, why)
			continue
		}
		if c.fourcc == "ICCP" {
			n := int64(len(icc))
			if err := writeHdr(c.fourcc, n); err != nil {
				return err
			}
			if _, err := w.Write(icc); err != nil {
				return err
			}
			if n&1 == 1 {
				if _, err := w.Write([]byte{0}); err != nil {
					return err
				}
			}
			continue
		}
		if !webpKept[c.fourcc] {
			if (c.fourcc == "EXIF" || c.fourcc == "XMP ") && exif != nil && !exifWritten {
				exifWritten = true
				if err := writeHdr("EXIF", int64(len(exif))); err != nil {
					return err
				}
				if _, err := w.Write(exif); err != nil {
					return err
				}
			}
			res.Dropped = append(res.Dropped, c.fourcc)
			continue
		}
		if c.fourcc == "VP8X" {
			p, err := readChunk(r, webpChunk{fourcc: c.fourcc, off: c.off, size: 10})
			if err != nil {
				return err
			}
			p[0] &^= vp8xICC | vp8xEXIF | vp8xXMP
			if hasICC {
				p[0] |= vp8xICC
			}
			if exif != nil {
				p[0] |= vp8xEXIF
			}
			if err := writeHdr(c.fourcc, 10); err != nil {
				return err
			}
			if _, err := w.Write(p); err != nil {
				return err
			}
			continue
		}
		if res.Width == 0 {
			p, err := readChunk(r, webpChunk{fourcc: c.fourcc, off: c.off, size: min(c.size, 10)})
			if err != nil {
				return err
			}
			res.Width, res.Height, _ = webpSize(c.fourcc, p)
		}
		if err := writeHdr(c.fourcc, c.size); err != nil {
			return err
		}
		if _, err := io.Copy(w, io.NewSectionReader(r, c.off, c.size)); err != nil {
			return formatErr(WebP, c.off, err)
		}
		if c.size&1 == 1 {
			if _, err := w.Write([]byte{0}); err != nil {
				return err
			}
		}
	}
	if hasVP8X {
		p, err := readChunk(r, webpChunk{off: chunks[0].off, size: 10})
		if err != nil {
			return err
		}
		res.Width, res.Height, _ = webpSize("VP8X", p)
	}
	if end < size {
		res.Dropped = append(res.Dropped, fmt.Sprintf("%d bytes after the RIFF data", size-end))
	}
	return nil
}

// checkWebP re-parses a stripped WebP from a stream: the RIFF size must match
// the data exactly, only allowlisted chunks may appear, and the VP8X flags
// must agree with the chunks present.
func checkWebP(r io.Reader) error {
	br := getReader(r)
	defer putReader(br)
	var off int64
	read := func(b []byte) error {
		n, err := io.ReadFull(br, b)
		off += int64(n)
		return formatErr(WebP, off, err)
	}
	var hdr [12]byte
	if err := read(hdr[:]); err != nil {
		return err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WEBP" {
		return webpErr(0, "missing RIFF WEBP header")
	}
	end := 8 + int64(binary.LittleEndian.Uint32(hdr[4:8]))
	var flags byte = 0xff
	hasICC, hasEXIF, hasImage := false, false, false
	for first := true; off < end; first = false {
		var ch [8]byte
		if err := read(ch[:]); err != nil {
			return err
		}
		fourcc, n := string(ch[:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		if off+n+n&1 > end {
			return webpErr(off, "chunk %q runs past the RIFF data", fourcc)
		}
		switch {
		case fourcc == "EXIF":
			if hasEXIF || n > maxMetaChunk {
				return webpErr(off, "more than one EXIF chunk")
			}
			hasEXIF = true
			p := make([]byte, n)
			if err := read(p); err != nil {
				return err
			}
			if !isMinimalTIFF(p) {
				return webpErr(off, "EXIF chunk holds more than the orientation")
			}
			n = 0
		case fourcc == "VP8X":
			if !first || n != 10 {
				return webpErr(off, "misplaced or malformed VP8X")
			}
			var p [10]byte
			if err := read(p[:]); err != nil {
				return err
			}
			flags, n = p[0], 0
		case fourcc == "ICCP":
			if hasICC || n > int64(maxICC) {
				return webpErr(off, "more than one ICCP chunk")
			}
			hasICC = true
			p := make([]byte, n+n&1)
			if err := read(p); err != nil {
				return err
			}
			if !iccClean(p[:n]) {
				return webpErr(off, "ICC profile not made neutral")
			}
			n = 0
		case webpKept[fourcc]:
			hasImage = hasImage || fourcc == "VP8 " || fourcc == "VP8L" || fourcc == "ANMF"
		default:
			return webpErr(off, "chunk %q left in output", fourcc)
		}
		// EXIF, VP8X and ICCP were read whole above (n = 0).
		skip := n + n&1
		got, err := br.Discard(int(skip))
		off += int64(got)
		if err != nil {
			return formatErr(WebP, off, err)
		}
	}
	if off != end {
		return webpErr(off, "chunks do not end at the RIFF size")
	}
	if !hasImage {
		return webpErr(off, "no image data")
	}
	if flags != 0xff && (flags&vp8xXMP != 0 || (flags&vp8xICC != 0) != hasICC || (flags&vp8xEXIF != 0) != hasEXIF) {
		return webpErr(12, "VP8X flags do not match the chunks")
	}
	if flags == 0xff && (hasEXIF || hasICC) {
		return webpErr(12, "metadata chunk without VP8X")
	}
	if n, _ := io.Copy(io.Discard, br); n > 0 {
		return webpErr(off, "%d bytes after the RIFF data", n)
	}
	return nil
}

// scanWebP reports the chunks Strip would drop from a WebP.
func scanWebP(r io.ReaderAt, size int64, rep *Report) error {
	chunks, end, err := webpChunks(r, size)
	if err != nil {
		return err
	}
	// Strip keeps the orientation only where VP8X can flag it.
	hasVP8X := len(chunks) > 0 && chunks[0].fourcc == "VP8X"
	var orient keptOrientation
	for _, c := range chunks {
		if rep.Width == 0 && (c.fourcc == "VP8X" || c.fourcc == "VP8 " || c.fourcc == "VP8L") {
			p, err := readChunk(r, webpChunk{off: c.off, size: min(c.size, 10)})
			if err != nil {
				return err
			}
			rep.Width, rep.Height, _ = webpSize(c.fourcc, p)
		}
		switch {
		case c.fourcc == "ICCP" && c.size <= int64(maxICC):
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			scanICC(p, rep)
		case c.fourcc == "ICCP":
			rep.add(CatOther, "ICC profile", "oversized profile (dropped)", fmt.Sprintf("%d bytes", c.size))
		case webpKept[c.fourcc]:
		case c.size > maxMetaChunk:
			rep.add(CatOther, "WebP", c.fourcc+" chunk", fmt.Sprintf("%d bytes", c.size))
		case c.fourcc == "EXIF":
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			tiff := webpTIFF(p)
			if hasVP8X {
				orient.exif(tiff)
			}
			if !isMinimalTIFF(tiff) {
				scanExif(tiff, "EXIF", rep)
			}
		case c.fourcc == "XMP ":
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			if hasVP8X {
				orient.xmp(p)
			}
			scanXMP(p, "XMP", rep)
		default:
			rep.add(CatOther, "WebP", strings.TrimSpace(c.fourcc)+" chunk", fmt.Sprintf("%d bytes", c.size))
		}
	}
	orient.flush()
	rep.Orientation = orient.value()
	if end < size {
		rep.add(CatTrailer, "file", "data after the RIFF data", fmt.Sprintf("%d bytes", size-end))
	}
	return nil
}
