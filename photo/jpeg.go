package photo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// JPEG markers (ITU-T T.81 Table B.1).
const (
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mDHP   = 0xDE
	mEXP   = 0xDF
	mDHT   = 0xC4
	mDAC   = 0xCC
	mAPP0  = 0xE0
	mAPP1  = 0xE1
	mAPP2  = 0xE2
	mAPP13 = 0xED
	mAPP14 = 0xEE
	mCOM   = 0xFE
	mTEM   = 0x01
)

const (
	jfifID      = "JFIF\x00"
	iccID       = "ICC_PROFILE\x00"
	adobeID     = "Adobe"
	xmpID       = "http://ns.adobe.com/xap/1.0/\x00"
	xmpExtID    = "http://ns.adobe.com/xmp/extension/\x00"
	mpfID       = "MPF\x00"
	photoshopID = "Photoshop 3.0\x00"
)

// isSOF reports whether m starts a frame (T.81 B.1.1.3): SOF0-3, 5-7, 9-11,
// 13-15. C4 (DHT), C8 (JPG, reserved) and CC (DAC) share the range.
func isSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != mDHT && m != 0xC8 && m != mDAC
}

// isRST reports whether m is a restart marker RST0-7 (T.81 B.2.1).
func isRST(m byte) bool { return m >= 0xD0 && m <= 0xD7 }

// jpegReader walks the marker segments of a JPEG stream. It never holds more
// than one segment (at most 65535 bytes) in memory, and copies entropy-coded
// data through in buffer-sized pieces.
type jpegReader struct {
	br  *bufio.Reader
	off int64 // bytes consumed so far
	buf []byte
	// extraneous counts bytes found between segments where a marker was
	// expected; decoders skip them (libjpeg warns "extraneous bytes before
	// marker") and so does veil.
	extraneous int64
}

func newJPEGReader(r io.Reader) *jpegReader {
	return &jpegReader{br: getReader(r)}
}

// close returns the read buffer to the pool.
func (j *jpegReader) close() { putReader(j.br) }

func (j *jpegReader) errorf(format string, args ...any) error {
	return &FormatError{Format: JPEG, Offset: j.off, Msg: fmt.Sprintf(format, args...)}
}

func (j *jpegReader) readByte() (byte, error) {
	c, err := j.br.ReadByte()
	if err != nil {
		return 0, formatErr(JPEG, j.off, err)
	}
	j.off++
	return c, nil
}

// soi checks the start-of-image marker.
func (j *jpegReader) soi() error {
	var b [2]byte
	n, err := io.ReadFull(j.br, b[:])
	j.off += int64(n)
	if err != nil {
		return formatErr(JPEG, j.off, err)
	}
	if b[0] != 0xFF || b[1] != mSOI {
		return j.errorf("missing start-of-image marker")
	}
	return nil
}

// nextMarker reads the next marker outside entropy-coded data, skipping fill
// bytes (0xFF, T.81 B.1.1.2) and any extraneous bytes before it.
func (j *jpegReader) nextMarker() (byte, error) {
	for {
		c, err := j.readByte()
		if err != nil {
			return 0, err
		}
		if c != 0xFF {
			j.extraneous++
			if j.extraneous > 1<<20 {
				return 0, j.errorf("no marker where one was expected (not a JPEG, or badly damaged)")
			}
			continue
		}
		for c == 0xFF {
			if c, err = j.readByte(); err != nil {
				return 0, err
			}
		}
		if c == 0 { // a stuffed zero outside a scan: garbage, skip it
			j.extraneous += 2
			continue
		}
		return c, nil
	}
}

// segment reads a marker segment's length field and returns the payload
// length. The length counts itself, so anything below 2 is malformed.
func (j *jpegReader) segment(m byte) (int, error) {
	var b [2]byte
	n, err := io.ReadFull(j.br, b[:])
	j.off += int64(n)
	if err != nil {
		return 0, formatErr(JPEG, j.off, err)
	}
	l := int(binary.BigEndian.Uint16(b[:]))
	if l < 2 {
		return 0, j.errorf("marker 0x%02X has invalid length %d", m, l)
	}
	return l - 2, nil
}

// payload reads n bytes into a buffer that is reused by the next call.
func (j *jpegReader) payload(n int) ([]byte, error) {
	if cap(j.buf) < n {
		j.buf = make([]byte, n, max(n, 4096))
	}
	b := j.buf[:n]
	got, err := io.ReadFull(j.br, b)
	j.off += int64(got)
	if err != nil {
		return nil, formatErr(JPEG, j.off, err)
	}
	return b, nil
}

// scanData copies entropy-coded data (T.81 B.1.1.5), including stuffed
// zeros and restart markers, to w (nil discards it) and returns the marker
// that ends it. Bytes are copied exactly as they are, in spans as large as
// the read buffer: the search for 0xFF runs at memchr speed.
func (j *jpegReader) scanData(w io.Writer) (byte, error) {
	for {
		n := j.br.Buffered()
		if n < 2 {
			n = 2
		}
		buf, err := j.br.Peek(n)
		if len(buf) < 2 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			j.off += int64(len(buf))
			return 0, formatErr(JPEG, j.off, err)
		}
		// Find the first 0xFF that starts a marker rather than a stuffed
		// zero or a restart marker. i stops short of a 0xFF at the very end
		// of the buffer, whose next byte is not here yet.
		i, marker := 0, false
		for i < len(buf)-1 {
			k := bytes.IndexByte(buf[i:len(buf)-1], 0xFF)
			if k < 0 {
				i = len(buf) - 1
				if buf[i] != 0xFF {
					i++
				}
				break
			}
			i += k
			if c := buf[i+1]; c == 0 || isRST(c) {
				i += 2
				continue
			}
			marker = true
			break
		}
		if i > 0 && w != nil {
			if _, err := w.Write(buf[:i]); err != nil {
				return 0, err
			}
		}
		j.br.Discard(i)
		j.off += int64(i)
		if !marker {
			continue
		}
		// At 0xFF: skip fill bytes, then the marker code.
		c, err := j.readByte()
		for err == nil && c == 0xFF {
			c, err = j.readByte()
		}
		if err != nil {
			return 0, err
		}
		return c, nil
	}
}

// jpegSeg classifies an APPn or COM segment by its marker and identifier.
type jpegSeg int

const (
	segOther jpegSeg = iota
	segJFIF
	segJFXX
	segExif
	segXMP
	segXMPExt
	segICC
	segMPF
	segISOGainMap
	segIPTC
	segAdobe
	segComment
)

func classifyJPEG(m byte, p []byte) jpegSeg {
	has := func(s string) bool { return bytes.HasPrefix(p, []byte(s)) }
	switch {
	case m == mCOM:
		return segComment
	case m == mAPP0 && has(jfifID):
		return segJFIF
	case m == mAPP0 && has("JFXX\x00"):
		return segJFXX
	case m == mAPP1 && has(exifHeader):
		return segExif
	case m == mAPP1 && has(xmpID):
		return segXMP
	case m == mAPP1 && has(xmpExtID):
		return segXMPExt
	case m == mAPP2 && has(iccID):
		return segICC
	case m == mAPP2 && has(mpfID):
		return segMPF
	case m == mAPP2 && has(isoGainMapID):
		return segISOGainMap
	case m == mAPP13 && has(photoshopID):
		return segIPTC
	case m == mAPP14 && has(adobeID):
		return segAdobe
	}
	return segOther
}

// isAPP reports whether m is an application segment APP0-APP15.
func isAPP(m byte) bool { return m >= 0xE0 && m <= 0xEF }

// isKeptTable reports whether m is a segment that decoding needs and that
// carries no metadata: frame and scan headers, tables, restart interval,
// and the hierarchical-mode markers.
func isKeptTable(m byte) bool {
	return isSOF(m) || m == mDHT || m == mDAC || m == mDQT || m == mDRI || m == mDNL || m == mDHP || m == mEXP
}

// jpegFrame records what the frame header says about the image.
type jpegFrame struct {
	width, height int
	seen          bool
}

func (f *jpegFrame) parse(m byte, p []byte) {
	if !isSOF(m) || f.seen || len(p) < 5 {
		return
	}
	f.seen = true
	f.height = int(binary.BigEndian.Uint16(p[1:3]))
	f.width = int(binary.BigEndian.Uint16(p[3:5]))
}

// jfifMinimal returns the 14-byte JFIF APP0 payload (JFIF 1.02 §"JFIF APP0
// marker") of p with any embedded thumbnail removed.
func jfifMinimal(p []byte) ([]byte, bool) {
	if len(p) < 14 {
		return nil, false
	}
	out := make([]byte, 14)
	copy(out, p[:12])
	// Xthumbnail and Ythumbnail = 0: no thumbnail pixels follow.
	return out, true
}

// adobeMinimal returns the fixed 12-byte Adobe APP14 payload (Adobe TN 5116
// §18): identifier, version, flags and the colour transform that CMYK and
// YCCK decoding depend on.
func adobeMinimal(p []byte) ([]byte, bool) {
	if len(p) < 12 {
		return nil, false
	}
	return p[:12], true
}

// jpegVisitor is what one pass over a JPEG does with its parts. walk does
// the reading, so that strip, its self-check and scan see a file the same
// way.
type jpegVisitor struct {
	// data receives the entropy-coded data of each scan byte for byte; nil
	// discards it.
	data io.Writer
	// bare sees each marker without a length (RST0-7, TEM) met outside
	// entropy-coded data; nil ignores them.
	bare func(m byte) error
	// segment sees each marker segment, scan headers included, in file
	// order; p is valid until it returns.
	segment func(m byte, p []byte) error
	// strict refuses bytes between segments, which Strip never writes.
	strict bool
}

// walk reads the marker segments after SOI up to and including EOI (T.81
// B.2.1) and hands them to v. It returns with j positioned just after EOI,
// so that the caller can see what follows it. A second SOI is refused: the
// file is two images or damaged.
func (j *jpegReader) walk(v jpegVisitor) error {
	m, err := j.nextMarker()
	for {
		if err != nil {
			return err
		}
		if v.strict && j.extraneous > 0 {
			return j.errorf("extraneous bytes between segments")
		}
		switch {
		case m == mEOI:
			return nil
		case m == mSOI:
			return j.errorf("second start-of-image marker before end of image")
		case isRST(m) || m == mTEM:
			if v.bare != nil {
				if err := v.bare(m); err != nil {
					return err
				}
			}
			m, err = j.nextMarker()
			continue
		}
		var p []byte
		var n int
		n, err = j.segment(m)
		if err == nil {
			p, err = j.payload(n)
		}
		if err == nil {
			err = v.segment(m, p)
		}
		if err != nil {
			return err
		}
		if m == mSOS {
			m, err = j.scanData(v.data)
			continue
		}
		m, err = j.nextMarker()
	}
}

// trailer discards what follows EOI and returns its length.
func (j *jpegReader) trailer() (int64, error) {
	n, err := io.Copy(io.Discard, j.br)
	j.off += n
	return n, err
}

// stripJPEG copies r to w keeping only what the allowlist of SPEC keeps.
// gm, when not nil, says how to treat a gain map: see gainMapStrip.
func stripJPEG(w io.Writer, r io.Reader, res *Result, gm *gainMapStrip) error {
	j := newJPEGReader(r)
	defer j.close()
	if err := j.soi(); err != nil {
		return err
	}
	cw := &countWriter{w: w}
	w = cw
	mpfDone, xmpDone, isoDone := false, false, false
	if _, err := w.Write([]byte{0xFF, mSOI}); err != nil {
		return err
	}
	writeSeg := func(m byte, p []byte) error {
		if len(p)+2 > 0xFFFF {
			return j.errorf("segment 0x%02X too long", m)
		}
		hdr := []byte{0xFF, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		_, err := w.Write(p)
		return err
	}
	var frame jpegFrame
	var orient keptOrientation
	var icc iccChunks
	headerDone := false
	writeExif := func(o int) error {
		if o == 0 {
			return nil
		}
		return writeSeg(mAPP1, append([]byte(exifHeader), minimalTIFF(o)...))
	}
	err := j.walk(jpegVisitor{
		data: w,
		// Markers without a length are harmless and kept as they are.
		bare: func(m byte) error {
			_, err := w.Write([]byte{0xFF, m})
			return err
		},
		segment: func(m byte, p []byte) error {
			switch {
			case m == mSOS:
				if !frame.seen {
					return j.errorf("scan before frame header")
				}
				return writeSeg(m, p)
			case isKeptTable(m):
				// Before the first segment that is not APPn or COM, every
				// APPn that declares an orientation has been seen, and an
				// Exif block written here still precedes the frame.
				if !headerDone && (gm == nil || !gm.isGainMap) {
					if err := writeExif(orient.flush()); err != nil {
						return err
					}
				}
				headerDone = true
				frame.parse(m, p)
				return writeSeg(m, p)
			case isAPP(m) || m == mCOM:
				kind := classifyJPEG(m, p)
				var keep []byte
				ok := false
				switch kind {
				case segJFIF:
					keep, ok = jfifMinimal(p)
				case segICC:
					// The profile is written, made neutral, where its last
					// part was; its parts are reported once, as one.
					profile, complete := icc.add(p)
					if !complete {
						return nil
					}
					clean, err := sanitizeICC(profile)
					if err != nil || len(clean) > maxICC {
						res.Dropped = append(res.Dropped, "ICC profile (malformed)")
						return nil
					}
					for _, seg := range iccSegments(clean) {
						if err := writeSeg(m, seg); err != nil {
							return err
						}
					}
					if !bytes.Equal(clean, profile) {
						res.Dropped = append(res.Dropped, "ICC profile text")
					}
					return nil
				case segAdobe:
					keep, ok = adobeMinimal(p)
				case segExif:
					if gm != nil && gm.isGainMap {
						break // the gain map's orientation is the primary's
					}
					if o := orient.exif(p[len(exifHeader):]); o != 0 {
						keep, ok = append([]byte(exifHeader), minimalTIFF(o)...), true
					}
				case segXMP:
					if !headerDone {
						orient.xmp(p[len(xmpID):])
					}
					if gm != nil && !xmpDone {
						xmpDone = true
						keep, ok = gm.xmp(p[len(xmpID):])
					}
				case segISOGainMap:
					// Kept only with the gain map it describes, once per image.
					if params, good := isoGainMap(p); gm != nil && !isoDone && good {
						isoDone = true
						keep, ok = p, true
						gm.foundISO = gm.isGainMap && params
					}
				case segMPF:
					if gm != nil && gm.primaryOf != nil && !mpfDone {
						mpfDone = true
						base := cw.n + 4 + int64(len(mpfID))
						keep, ok = buildMPF(gm.primaryOf.attr, gm.primaryOf.primaryLen, base, int64(len(gm.primaryOf.out))), true
					}
				}
				if ok {
					if err := writeSeg(m, keep); err != nil {
						return err
					}
				}
				if !ok || len(keep) != len(p) {
					res.Dropped = append(res.Dropped, segName(m, kind))
				}
				return nil
			case m == 0xF7 || m == 0xF8:
				return &UnsupportedError{Format: JPEG, Detail: "JPEG-LS"}
			}
			return j.errorf("unexpected marker 0x%02X", m)
		},
	})
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte{0xFF, mEOI}); err != nil {
		return err
	}
	if !frame.seen {
		return j.errorf("no frame header before end of image")
	}
	if icc.bad || icc.pending() {
		res.Dropped = append(res.Dropped, "ICC profile (malformed)")
	}
	res.Width, res.Height = frame.width, frame.height
	res.Orientation = orient.value()
	if gm != nil {
		gm.end = j.off
		if gm.primaryOf != nil && !mpfDone {
			return j.errorf("MPF segment not found again")
		}
	}
	// Everything after EOI (trailers, MPF preview images and gain maps,
	// motion photo video) is dropped.
	var tr trailerFinder
	n, err := io.Copy(&tr, j.br)
	j.off += n
	if err != nil {
		return err
	}
	if gm != nil && gm.primaryOf != nil {
		n -= gm.primaryOf.inLen // kept, made clean
	} else if tr.gainMap {
		res.Dropped = append(res.Dropped, "HDR gain map")
	}
	if n > 0 {
		res.Dropped = append(res.Dropped, fmt.Sprintf("%d bytes after end of image", n))
	}
	res.Extraneous = j.extraneous
	return nil
}

func segName(m byte, kind jpegSeg) string {
	switch kind {
	case segJFIF:
		return "JFIF thumbnail"
	case segJFXX:
		return "JFXX thumbnail"
	case segExif:
		return "Exif"
	case segXMP:
		return "XMP"
	case segXMPExt:
		return "extended XMP"
	case segICC:
		return "ICC profile"
	case segMPF:
		return "MPF"
	case segISOGainMap:
		return "ISO 21496-1 gain map metadata"
	case segIPTC:
		return "Photoshop/IPTC"
	case segAdobe:
		return "Adobe APP14 extra bytes"
	case segComment:
		return "comment"
	}
	return fmt.Sprintf("APP%d", m-mAPP0)
}

// checkJPEG re-parses a stripped JPEG and fails if it holds anything the
// allowlist drops, or if it does not parse from SOI to a final EOI. After
// EOI only a kept gain map may follow, exactly as the MPF segment says and
// exactly as veil writes one.
func checkJPEG(r io.Reader) error {
	j := newJPEGReader(r)
	defer j.close()
	mpf, err := checkJPEGImage(j, false)
	if err != nil {
		return err
	}
	if mpf == nil {
		if n, _ := j.trailer(); n > 0 {
			return j.errorf("%d bytes after end of image", n)
		}
		return nil
	}
	// A primary image with a gain map: MPF says where it is and how long.
	primaryLen := j.off
	if mpf.size[0] != uint32(primaryLen) || int64(mpf.off[1]) != primaryLen-mpf.base {
		return j.errorf("MPF segment does not describe the images that follow")
	}
	g := newJPEGReader(io.LimitReader(j.br, int64(mpf.size[1])+1))
	defer g.close()
	if _, err := checkJPEGImage(g, true); err != nil {
		return err
	}
	if g.off != int64(mpf.size[1]) {
		return j.errorf("gain map is not the length MPF says")
	}
	if n, _ := io.Copy(io.Discard, g.br); n > 0 {
		return j.errorf("%d bytes after the gain map", n)
	}
	if n, _ := io.Copy(io.Discard, j.br); n > 0 {
		return j.errorf("%d bytes after the gain map", n)
	}
	return nil
}

// checkedMPF is what checkJPEGImage read from a kept MPF segment.
type checkedMPF struct {
	size, off []uint32
	base      int64 // file offset of the MPF TIFF header
}

// checkJPEGImage checks one image from SOI to EOI: the primary (which may
// carry veil's MPF segment and hdrgm XMP, returned when present) or the
// gain map (which must carry veil's gain-map XMP).
func checkJPEGImage(j *jpegReader, gainMap bool) (*checkedMPF, error) {
	if err := j.soi(); err != nil {
		return nil, err
	}
	var frame jpegFrame
	var mpf *checkedMPF
	var icc iccChunks
	scans, exifs, xmps, isos := 0, 0, 0, 0
	isoParams := false
	err := j.walk(jpegVisitor{
		strict: true,
		segment: func(m byte, p []byte) error {
			switch {
			case m == mSOS:
				scans++
			case isKeptTable(m):
				frame.parse(m, p)
			case isAPP(m) || m == mCOM:
				switch kind := classifyJPEG(m, p); kind {
				case segJFIF:
					if len(p) != 14 || p[12] != 0 || p[13] != 0 {
						return j.errorf("JFIF segment carries a thumbnail")
					}
				case segICC:
					profile, complete := icc.add(p)
					if icc.bad {
						return j.errorf("ICC profile segments out of sequence")
					}
					if complete && !iccClean(profile) {
						return j.errorf("ICC profile not made neutral")
					}
				case segAdobe:
					if len(p) != 12 {
						return j.errorf("Adobe segment has extra bytes")
					}
				case segExif:
					exifs++
					if gainMap || exifs > 1 || !isMinimalTIFF(p[len(exifHeader):]) {
						return j.errorf("Exif segment holds more than the orientation")
					}
				case segXMP:
					xmps++
					if xmps > 1 || !xmpKept(p, gainMap) {
						return j.errorf("XMP segment holds more than the gain map parameters")
					}
				case segISOGainMap:
					isos++
					params, ok := isoGainMap(p)
					if isos > 1 || !ok {
						return j.errorf("ISO 21496-1 segment is not gain map metadata alone")
					}
					isoParams = params
				case segMPF:
					attr, size, off, ok := mpfEntries(p)
					if gainMap || mpf != nil || !ok || len(attr) != 2 || off[0] != 0 ||
						!bytes.Equal(p, buildMPF([2]uint32{attr[0], attr[1]}, int64(size[0]), int64(size[0])-int64(off[1]), int64(size[1]))) {
						return j.errorf("MPF segment is not one veil writes")
					}
					mpf = &checkedMPF{size: size, off: off, base: j.off - int64(len(p)) + int64(len(mpfID))}
				default:
					return j.errorf("%s segment left in output", segName(m, kind))
				}
			default:
				return j.errorf("unexpected marker 0x%02X", m)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if !frame.seen || scans == 0 {
		return nil, j.errorf("no frame or no scan")
	}
	if icc.pending() {
		return nil, j.errorf("ICC profile incomplete")
	}
	if gainMap && xmps == 0 && !isoParams {
		return nil, j.errorf("gain map without its parameters")
	}
	if !gainMap && xmps+isos > 0 && mpf == nil {
		return nil, j.errorf("gain map metadata without a gain map")
	}
	return mpf, nil
}

// xmpKept reports whether an XMP segment is one veil writes: hdrgm:Version
// alone in a primary image, the allowlisted parameters in a gain map.
func xmpKept(p []byte, gainMap bool) bool {
	if !gainMap {
		return bytes.Equal(p, primaryGainMapXMP)
	}
	props, ok := readGainMapXMP(p[len(xmpID):])
	return ok && bytes.Equal(p, gainMapXMP(props))
}

// scanJPEG reports the metadata segments of a JPEG and what follows its
// end of image.
func scanJPEG(r io.Reader, rep *Report) error {
	j := newJPEGReader(r)
	defer j.close()
	if err := j.soi(); err != nil {
		return err
	}
	var frame jpegFrame
	var orient keptOrientation
	var icc iccChunks
	headerDone := false
	err := j.walk(jpegVisitor{
		segment: func(m byte, p []byte) error {
			switch {
			case isKeptTable(m):
				if !headerDone {
					headerDone = true
					orient.flush()
				}
				frame.parse(m, p)
			case isAPP(m) || m == mCOM:
				kind := classifyJPEG(m, p)
				switch {
				case kind == segExif:
					orient.exif(p[len(exifHeader):])
				case kind == segXMP && !headerDone:
					orient.xmp(p[len(xmpID):])
				case kind == segICC:
					if profile, complete := icc.add(p); complete {
						scanICC(profile, rep)
					}
				}
				scanJPEGSegment(m, kind, p, rep)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	if icc.bad || icc.pending() {
		rep.add(CatOther, "ICC profile", "malformed profile (dropped)", "segments out of sequence or missing")
	}
	rep.Width, rep.Height = frame.width, frame.height
	rep.Orientation = orient.value()
	var tr trailerFinder
	n, err := io.Copy(&tr, j.br)
	if err != nil {
		return err
	}
	if tr.gainMap {
		rep.add(CatTrailer, "file", gainMapFinding, "")
	}
	switch {
	case tr.video:
		rep.add(CatTrailer, "file", "motion-photo video after end of image", fmt.Sprintf("%d bytes", n))
	case n > 0:
		rep.add(CatTrailer, "file", "data after end of image", fmt.Sprintf("%d bytes", n))
	}
	return nil
}

// gainMapFinding names a gain map in Scan's findings.
const gainMapFinding = "HDR gain map after end of image"

// trailerFinder watches the bytes after a JPEG's EOI for what a user would
// look for there. The video of a motion photo: Samsung's follows a
// "MotionPhoto_Data" marker; Google's (Motion Photo, MicroVideo) and others
// append an MP4 file, whose first box is ftyp (ISO/IEC 14496-12 §4.3). An
// HDR gain map: an MPF secondary JPEG whose XMP uses the hdrgm namespace
// (Ultra HDR, Adobe), Apple's auxiliary image type, or whose APP2 holds
// ISO 21496-1 metadata. Strip drops every trailer alike, so a gain-map photo
// keeps only its SDR rendition; Scan and Strip say so.
type trailerFinder struct {
	tail           []byte // the last bytes seen, for a pattern split across writes
	video, gainMap bool
}

// gainMapIDs mark a gain map image.
var gainMapIDs = [][]byte{
	[]byte("http://ns.adobe.com/hdr-gain-map/1.0/"),
	[]byte("urn:com:apple:photo:2020:aux:hdrgainmap"),
	[]byte("urn:iso:std:iso:ts:21496:-1"),
}

func (m *trailerFinder) Write(p []byte) (int, error) {
	const keep = 40 // longer than every pattern
	edge := append(m.tail, p[:min(len(p), keep)]...)
	m.video = m.video || hasMotionVideo(edge) || hasMotionVideo(p)
	for _, id := range gainMapIDs {
		m.gainMap = m.gainMap || bytes.Contains(edge, id) || bytes.Contains(p, id)
	}
	m.tail = append(m.tail, p[max(0, len(p)-keep):]...)
	m.tail = m.tail[max(0, len(m.tail)-keep):]
	return len(p), nil
}

// hasMotionVideo reports whether b holds Samsung's motion photo marker or
// the header of an ftyp box: a 32-bit size below 256 and at least 16.
func hasMotionVideo(b []byte) bool {
	if bytes.Contains(b, []byte("MotionPhoto_Data")) {
		return true
	}
	for i := 0; ; {
		k := bytes.Index(b[i:], []byte("ftyp"))
		if k < 0 {
			return false
		}
		i += k
		if i >= 4 && b[i-4] == 0 && b[i-3] == 0 && b[i-2] == 0 && b[i-1] >= 16 {
			return true
		}
		i += 4
	}
}

// scanJPEGSegment reports what one APPn or COM segment holds.
func scanJPEGSegment(m byte, kind jpegSeg, p []byte, rep *Report) {
	switch kind {
	case segJFIF:
		if len(p) >= 14 && int(p[12])*int(p[13]) > 0 {
			rep.add(CatThumbnail, "JFIF", "thumbnail", fmt.Sprintf("%dx%d", p[12], p[13]))
		}
	case segJFXX:
		rep.add(CatThumbnail, "JFXX", "thumbnail", fmt.Sprintf("%d bytes", len(p)))
	case segExif:
		if tiff := p[len(exifHeader):]; !isMinimalTIFF(tiff) {
			scanExif(tiff, "EXIF", rep)
		}
	case segXMP:
		scanXMP(p[len(xmpID):], "XMP", rep)
	case segXMPExt:
		rep.add(CatText, "XMP", "extended XMP", fmt.Sprintf("%d bytes", len(p)))
	case segICC, segAdobe:
	case segISOGainMap:
		if !isoGainMapOK(p) {
			rep.add(CatOther, "JPEG", segName(m, kind), fmt.Sprintf("%d bytes, not ISO 21496-1 metadata alone", len(p)))
		}
	case segMPF:
		rep.add(CatThumbnail, "MPF", "preview images", "")
	case segIPTC:
		rep.add(CatText, "IPTC", "Photoshop/IPTC block", fmt.Sprintf("%d bytes", len(p)))
	case segComment:
		rep.add(CatText, "JPEG comment", "COM", string(p))
	default:
		rep.add(CatOther, "JPEG", segName(m, kind), appID(p))
	}
}

// appID returns the printable identifier at the start of an APPn payload.
func appID(p []byte) string {
	if i := bytes.IndexByte(p, 0); i >= 0 && i < 40 {
		p = p[:i]
	} else if len(p) > 12 {
		p = p[:12]
	}
	return string(p)
}
