package photo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// pngKept lists the chunks that survive stripping (SPEC allowlist, plus the
// PNG third-edition colour chunks cICP, mDCV and cLLI, which hold only colour
// space data and without which an HDR image renders wrongly).
var pngKept = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true,
	"sBIT": true, "pHYs": true,
	"acTL": true, "fcTL": true, "fdAT": true,
	"cICP": true, "mDCV": true, "cLLI": true,
}

// maxPNGChunk bounds the length field (PNG §5.3: at most 2^31-1).
const maxPNGChunk = 1<<31 - 1

// maxMetaChunk bounds how much of a metadata chunk veil reads into memory
// (eXIf for the orientation, text chunks for scan); larger ones are skipped.
const maxMetaChunk = 4 << 20

type pngReader struct {
	br  *bufio.Reader
	off int64
	buf []byte
}

func newPNGReader(r io.Reader) *pngReader { return &pngReader{br: getReader(r)} }

// close returns the read buffer to the pool.
func (p *pngReader) close() { putReader(p.br) }

func (p *pngReader) errorf(format string, args ...any) error {
	return &FormatError{Format: PNG, Offset: p.off, Msg: fmt.Sprintf(format, args...)}
}

func (p *pngReader) full(b []byte) error {
	n, err := io.ReadFull(p.br, b)
	p.off += int64(n)
	return formatErr(PNG, p.off, err)
}

func (p *pngReader) signature() error {
	var b [8]byte
	if err := p.full(b[:]); err != nil {
		return err
	}
	if string(b[:]) != pngSignature {
		return p.errorf("missing PNG signature")
	}
	return nil
}

// header reads a chunk's length and type (PNG §5.3).
func (p *pngReader) header() (typ string, length int64, raw [8]byte, err error) {
	if err = p.full(raw[:]); err != nil {
		return
	}
	length = int64(binary.BigEndian.Uint32(raw[:4]))
	typ = string(raw[4:8])
	if length > maxPNGChunk {
		return "", 0, raw, p.errorf("chunk %q has invalid length %d", typ, length)
	}
	for _, c := range raw[4:8] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return "", 0, raw, p.errorf("invalid chunk type %q", raw[4:8])
		}
	}
	return typ, length, raw, nil
}

// data reads a whole chunk's data and CRC into memory (only for chunks
// bounded by maxMetaChunk) and checks the CRC.
func (p *pngReader) data(raw [8]byte, n int64) ([]byte, error) {
	if int64(cap(p.buf)) < n+4 {
		p.buf = make([]byte, n+4)
	}
	b := p.buf[:n+4]
	if err := p.full(b); err != nil {
		return nil, err
	}
	crc := crc32.NewIEEE()
	crc.Write(raw[4:8])
	crc.Write(b[:n])
	if crc.Sum32() != binary.BigEndian.Uint32(b[n:]) {
		return nil, p.errorf("chunk %q has a bad CRC (damaged file)", raw[4:8])
	}
	return b[:n], nil
}

// copyChunk streams a chunk's data and CRC to w (nil discards), checking the
// CRC on the way.
func (p *pngReader) copyChunk(w io.Writer, raw [8]byte, n int64) error {
	crc := crc32.NewIEEE()
	crc.Write(raw[4:8])
	var dst io.Writer = crc
	if w != nil {
		dst = io.MultiWriter(w, crc)
	}
	got, err := io.CopyN(dst, p.br, n)
	p.off += got
	if err != nil {
		return formatErr(PNG, p.off, err)
	}
	var c [4]byte
	if err := p.full(c[:]); err != nil {
		return err
	}
	if crc.Sum32() != binary.BigEndian.Uint32(c[:]) {
		return p.errorf("chunk %q has a bad CRC (damaged file)", raw[4:8])
	}
	if w != nil {
		_, err = w.Write(c[:])
	}
	return err
}

func writePNGChunk(w io.Writer, typ string, data []byte) error {
	b := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(b, uint32(len(data)))
	copy(b[4:], typ)
	b = append(b, data...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	_, err := w.Write(b)
	return err
}

// stripPNG copies r to w keeping only the allowlisted chunks, each copied
// byte for byte with its original CRC.
func stripPNG(w io.Writer, r io.Reader, res *Result) error {
	p := newPNGReader(r)
	defer p.close()
	if err := p.signature(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, pngSignature); err != nil {
		return err
	}
	first, idat := true, false
	var orient keptOrientation
	writeExif := func(o int) error {
		if o == 0 {
			return nil
		}
		return writePNGChunk(w, "eXIf", minimalTIFF(o))
	}
	for {
		typ, n, raw, err := p.header()
		if err != nil {
			return err
		}
		if first && typ != "IHDR" {
			return p.errorf("first chunk is %q, not IHDR", typ)
		}
		switch {
		case typ == "IHDR":
			if !first || n != 13 {
				return p.errorf("misplaced or malformed IHDR")
			}
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			res.Width = int(binary.BigEndian.Uint32(d[0:4]))
			res.Height = int(binary.BigEndian.Uint32(d[4:8]))
			if err := writePNGChunk(w, typ, d); err != nil {
				return err
			}
		case typ == "iCCP":
			if err := p.skipOrRead(raw, n, func(d []byte) error {
				clean, changed, err := sanitizeICCP(d)
				switch {
				case err != nil:
					res.Dropped = append(res.Dropped, "iCCP (malformed ICC profile)")
					return nil
				case changed:
					res.Dropped = append(res.Dropped, "ICC profile text")
				}
				return writePNGChunk(w, typ, clean)
			}); err != nil {
				return err
			}
			if n > maxMetaChunk {
				res.Dropped = append(res.Dropped, "iCCP (oversized)")
			}
		case pngKept[typ]:
			// PNG §5.6: eXIf before IDAT. An orientation that only XMP
			// after the image data declares is written before IEND, where
			// exiftool and Pillow still read it.
			if typ == "IDAT" && !idat || typ == "IEND" {
				idat = true
				if err := writeExif(orient.flush()); err != nil {
					return err
				}
			}
			if _, err := w.Write(raw[:]); err != nil {
				return err
			}
			if err := p.copyChunk(w, raw, n); err != nil {
				return err
			}
		case typ == "eXIf" && !orient.exifSeen && n <= maxMetaChunk:
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			res.Dropped = append(res.Dropped, "eXIf")
			if err := writeExif(orient.exif(d)); err != nil {
				return err
			}
		case typ == "iTXt" && n <= maxMetaChunk:
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			if x, ok := pngXMP(d); ok {
				orient.xmp(x)
			}
			res.Dropped = append(res.Dropped, typ)
		default:
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
			res.Dropped = append(res.Dropped, typ)
		}
		first = false
		if typ == "IEND" {
			res.Orientation = orient.value()
			n, err := io.Copy(io.Discard, p.br)
			if err != nil {
				return err
			}
			if n > 0 {
				res.Dropped = append(res.Dropped, fmt.Sprintf("%d bytes after IEND", n))
			}
			return nil
		}
	}
}

// checkPNG re-parses a stripped PNG and fails if it holds a chunk outside
// the allowlist, a bad CRC, or anything after IEND.
func checkPNG(r io.Reader) error {
	p := newPNGReader(r)
	defer p.close()
	if err := p.signature(); err != nil {
		return err
	}
	first, idat, exifs := true, false, 0
	for {
		typ, n, raw, err := p.header()
		if err != nil {
			return err
		}
		if first != (typ == "IHDR") {
			return p.errorf("IHDR is not the first chunk")
		}
		first = false
		switch {
		case typ == "eXIf":
			exifs++
			if n > maxMetaChunk {
				return p.errorf("oversized eXIf")
			}
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			if exifs > 1 || !isMinimalTIFF(d) {
				return p.errorf("eXIf chunk holds more than the orientation")
			}
		case typ == "iCCP":
			if n > maxMetaChunk {
				return p.errorf("oversized iCCP")
			}
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			if _, changed, err := sanitizeICCP(d); err != nil || changed {
				return p.errorf("iCCP chunk not made neutral")
			}
		case pngKept[typ]:
			idat = idat || typ == "IDAT"
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
		default:
			return p.errorf("chunk %q left in output", typ)
		}
		if typ == "IEND" {
			if !idat {
				return p.errorf("no image data")
			}
			if n, _ := io.Copy(io.Discard, p.br); n > 0 {
				return p.errorf("%d bytes after IEND", n)
			}
			return nil
		}
	}
}

// scanPNG reports the chunks Strip would drop from a PNG.
func scanPNG(r io.Reader, rep *Report) error {
	p := newPNGReader(r)
	defer p.close()
	if err := p.signature(); err != nil {
		return err
	}
	var orient keptOrientation
	idat := false
	for {
		typ, n, raw, err := p.header()
		if err != nil {
			return err
		}
		switch {
		case typ == "IHDR" && n == 13:
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			rep.Width = int(binary.BigEndian.Uint32(d[0:4]))
			rep.Height = int(binary.BigEndian.Uint32(d[4:8]))
		case typ == "iCCP":
			if err := p.skipOrRead(raw, n, func(d []byte) error {
				scanICCP(d, rep)
				return nil
			}); err != nil {
				return err
			}
			if n > maxMetaChunk {
				rep.add(CatOther, "PNG iCCP", "oversized ICC profile (dropped)", fmt.Sprintf("%d bytes", n))
			}
		case pngKept[typ]:
			if typ == "IDAT" && !idat || typ == "IEND" {
				idat = true
				orient.flush()
			}
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
		case n <= maxMetaChunk && (typ == "eXIf" || typ == "tEXt" || typ == "iTXt" || typ == "zTXt"):
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			if typ == "eXIf" {
				orient.exif(d)
				if !isMinimalTIFF(d) {
					scanExif(d, "PNG eXIf", rep)
				}
				break
			}
			if x, ok := pngXMP(d); ok && typ == "iTXt" {
				orient.xmp(x)
			}
			scanPNGText(typ, d, rep)
		case typ == "tIME":
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
			rep.add(CatDate, "PNG tIME", "last modification time", "")
		default:
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
			rep.add(CatOther, "PNG", typ+" chunk", fmt.Sprintf("%d bytes", n))
		}
		if typ == "IEND" {
			rep.Orientation = orient.value()
			n, err := io.Copy(io.Discard, p.br)
			if err != nil {
				return err
			}
			if n > 0 {
				rep.add(CatTrailer, "file", "data after IEND", fmt.Sprintf("%d bytes", n))
			}
			return nil
		}
	}
}

// scanPNGText reports a tEXt, zTXt or iTXt chunk by its keyword (PNG §11.3.4).
func scanPNGText(typ string, d []byte, rep *Report) {
	key, rest, _ := bytes.Cut(d, []byte{0})
	k := string(key)
	source := "PNG " + typ
	if k == "XML:com.adobe.xmp" {
		if x, ok := pngXMP(d); ok && typ == "iTXt" {
			scanXMP(x, "XMP", rep)
			return
		}
		rep.add(CatText, "XMP", "XMP packet", fmt.Sprintf("%d bytes", len(d)))
		return
	}
	value := ""
	if typ == "tEXt" {
		value = string(rest)
	}
	switch strings.ToLower(k) {
	case "creation time", "date:create", "date:modify", "date:timestamp", "timestamp":
		rep.add(CatDate, source, k, value)
	case "software", "source", "make", "model":
		rep.add(CatDevice, source, k, value)
	case "raw profile type exif", "raw profile type app1":
		rep.add(CatText, source, k+" (embedded EXIF)", "")
	default:
		rep.add(CatText, source, k, value)
	}
}

// pngXMP returns the XMP packet an iTXt chunk's data holds uncompressed
// under the keyword XMP specifies for PNG (XMP Part 3 §1.1.5).
func pngXMP(d []byte) ([]byte, bool) {
	key, rest, _ := bytes.Cut(d, []byte{0})
	if string(key) != "XML:com.adobe.xmp" || len(rest) < 2 || rest[0] != 0 {
		return nil, false
	}
	// compression flag, method, language tag\0, translated keyword\0, text
	_, after, ok := bytes.Cut(rest[2:], []byte{0})
	if !ok {
		return nil, false
	}
	_, text, ok := bytes.Cut(after, []byte{0})
	return text, ok
}

// skipOrRead hands a chunk's data to fn when it is small enough to hold
// (maxMetaChunk), and otherwise skips it, checking its CRC either way.
func (p *pngReader) skipOrRead(raw [8]byte, n int64, fn func(d []byte) error) error {
	if n > maxMetaChunk {
		return p.copyChunk(nil, raw, n)
	}
	d, err := p.data(raw, n)
	if err != nil {
		return err
	}
	return fn(d)
}

// iccpName is the profile name a stripped PNG's iCCP chunk carries: the
// name is free Latin-1 text (PNG §11.3.3.3), so the writer's is not kept.
const iccpName = "ICC profile"

// iccpProfile returns the name and the decompressed profile of an iCCP
// chunk (PNG §11.3.3.3): a 1-79 byte name, a NUL, compression method 0 and
// a zlib datastream, which may not inflate beyond maxICC.
// trailing counts the bytes after the zlib datastream, which no reader
// reads and Strip does not keep.
func iccpProfile(d []byte) (name string, profile []byte, trailing int, err error) {
	key, rest, ok := bytes.Cut(d, []byte{0})
	if !ok || len(key) == 0 || len(key) > 79 || len(rest) < 1 || rest[0] != 0 {
		return "", nil, 0, fmt.Errorf("iCCP chunk has no valid name or compression method")
	}
	// A bytes.Reader is an io.ByteReader, so zlib reads no further than
	// its datastream's checksum and what is left in br is trailing.
	br := bytes.NewReader(rest[1:])
	zr, err := zlib.NewReader(br)
	if err != nil {
		return "", nil, 0, err
	}
	profile, err = io.ReadAll(io.LimitReader(zr, int64(maxICC)+1))
	if err != nil {
		return "", nil, 0, err
	}
	if len(profile) > maxICC {
		return "", nil, 0, fmt.Errorf("iCCP profile inflates beyond %d bytes", maxICC)
	}
	return string(key), profile, br.Len(), nil
}

// sanitizeICCP returns the data of an iCCP chunk whose profile is made
// neutral (sanitizeICC) and whose name is iccpName, and whether that
// changed anything. zlib's output is not unique, so a chunk already clean
// is returned as it is.
func sanitizeICCP(d []byte) (out []byte, changed bool, err error) {
	name, profile, trailing, err := iccpProfile(d)
	if err != nil {
		return nil, false, err
	}
	clean, err := sanitizeICC(profile)
	if err != nil {
		return nil, false, err
	}
	if name == iccpName && bytes.Equal(clean, profile) && trailing == 0 {
		return d, false, nil
	}
	var b bytes.Buffer
	b.WriteString(iccpName + "\x00\x00")
	zw := zlib.NewWriter(&b)
	zw.Write(clean)
	if err := zw.Close(); err != nil {
		return nil, false, err
	}
	return b.Bytes(), true, nil
}

// scanICCP reports an iCCP chunk's profile name and what its profile
// carries.
func scanICCP(d []byte, rep *Report) {
	name, profile, trailing, err := iccpProfile(d)
	if err != nil {
		rep.add(CatOther, "PNG iCCP", "malformed ICC profile (dropped)", err.Error())
		return
	}
	if name != iccpName {
		rep.add(CatText, "PNG iCCP", "profile name", name)
	}
	if trailing > 0 {
		rep.add(CatOther, "PNG iCCP", "bytes after the compressed profile", fmt.Sprintf("%d bytes", trailing))
	}
	scanICC(profile, rep)
}
