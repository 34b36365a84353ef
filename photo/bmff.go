package photo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ISO base media file format boxes (ISO/IEC 14496-12 §4.2), the container of
// HEIF and AVIF. Top-level boxes are read from an io.ReaderAt without reading
// their bodies; the boxes inside 'meta' are parsed from memory.

// bmffBox is one box: its four-character type and where its body lies, as a
// file offset (top level) or an offset into the parent's body (nested).
type bmffBox struct {
	typ   string
	start int64 // offset of the box header
	body  int64 // offset of the body, after the header
	end   int64 // offset just past the box
}

func (b bmffBox) bodyLen() int64 { return b.end - b.body }

// boxHeader decodes the header at the start of p (§4.2: 32-bit size, type,
// and a 64-bit largesize when size is 1; size 0 runs to the end of the
// container). start is p's offset and end the end of the container; the box
// must fit inside it. It needs at most 16 bytes of p.
func boxHeader(f Format, p []byte, start, end int64) (bmffBox, error) {
	if end-start < 8 || len(p) < 8 {
		return bmffBox{}, &FormatError{Format: f, Offset: start, Msg: "box header runs past its container"}
	}
	b := bmffBox{typ: string(p[4:8]), start: start, body: start + 8}
	switch size := uint64(binary.BigEndian.Uint32(p)); size {
	case 0:
		b.end = end
	case 1:
		if end-start < 16 || len(p) < 16 {
			return bmffBox{}, &FormatError{Format: f, Offset: start, Msg: fmt.Sprintf("%q box header runs past its container", b.typ)}
		}
		large := binary.BigEndian.Uint64(p[8:])
		b.body = start + 16
		if large < 16 || large > uint64(end-start) {
			return bmffBox{}, boxSizeErr(f, b.typ, start, large, end)
		}
		b.end = start + int64(large)
	default:
		if size < 8 || size > uint64(end-start) {
			return bmffBox{}, boxSizeErr(f, b.typ, start, size, end)
		}
		b.end = start + int64(size)
	}
	return b, nil
}

func boxSizeErr(f Format, typ string, start int64, size uint64, end int64) error {
	if size > uint64(end-start) {
		return &FormatError{Format: f, Offset: start, Msg: fmt.Sprintf("%q box of %d bytes runs past its container, which ends at byte %d (truncated, or still being copied?)", typ, size, end)}
	}
	return &FormatError{Format: f, Offset: start, Msg: fmt.Sprintf("%q box has invalid size %d", typ, size)}
}

// maxBoxes bounds how many boxes one container may hold; real HEIF files
// have a handful at the top level and a few hundred in iinf or ipco.
const maxBoxes = 1 << 17

// topBoxes reads the header of every top-level box of a file.
func topBoxes(f Format, r io.ReaderAt, size int64) ([]bmffBox, error) {
	var boxes []bmffBox
	var hdr [16]byte
	for off := int64(0); off < size; {
		n := int(min(16, size-off))
		if _, err := r.ReadAt(hdr[:n], off); err != nil {
			return nil, formatErr(f, off, err)
		}
		b, err := boxHeader(f, hdr[:n], off, size)
		if err != nil {
			return nil, err
		}
		if len(boxes) >= maxBoxes {
			return nil, &FormatError{Format: f, Offset: off, Msg: "too many boxes"}
		}
		boxes = append(boxes, b)
		off = b.end
	}
	return boxes, nil
}

// childBoxes splits a body held in memory into its boxes. base is the file
// offset of p, for error messages; the offsets returned are into p.
func childBoxes(f Format, p []byte, base int64) ([]bmffBox, error) {
	var boxes []bmffBox
	for off := int64(0); off < int64(len(p)); {
		b, err := boxHeader(f, p[off:], off, int64(len(p)))
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				fe.Offset += base
			}
			return nil, err
		}
		if len(boxes) >= maxBoxes {
			return nil, &FormatError{Format: f, Offset: base + off, Msg: "too many boxes"}
		}
		boxes = append(boxes, b)
		off = b.end
	}
	return boxes, nil
}

// bytesReader reads big-endian fields from a box body. The first read past
// the end sets err and every later read returns zero, so that a parser can
// read a whole structure and check err once.
type bytesReader struct {
	p   []byte
	off int
	err error
	f   Format
	at  int64 // file offset of p[0], for errors
	box string
}

func newBytesReader(f Format, box string, p []byte, at int64) *bytesReader {
	return &bytesReader{p: p, f: f, at: at, box: box}
}

func (r *bytesReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = &FormatError{Format: r.f, Offset: r.at + int64(r.off), Msg: fmt.Sprintf("%q box: ", r.box) + fmt.Sprintf(format, args...)}
	}
}

func (r *bytesReader) left() int { return len(r.p) - r.off }

func (r *bytesReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.fail("ends early")
		return nil
	}
	b := r.p[r.off : r.off+n]
	r.off += n
	return b
}

func (r *bytesReader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *bytesReader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *bytesReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// uint reads an unsigned field of n bytes: 0, 2, 4 or 8, as iloc sizes are.
func (r *bytesReader) uint(n int) uint64 {
	switch n {
	case 0:
		return 0
	case 2:
		return uint64(r.u16())
	case 4:
		return uint64(r.u32())
	case 8:
		if b := r.take(8); b != nil {
			return binary.BigEndian.Uint64(b)
		}
		return 0
	}
	r.fail("invalid field size %d", n)
	return 0
}

// fullBox reads the version and flags that start a FullBox (§4.2).
func (r *bytesReader) fullBox() (version uint8, flags uint32) {
	v := r.u32()
	return uint8(v >> 24), v & 0xFFFFFF
}

// cstring reads a null-terminated UTF-8 string. A string that runs to the end
// of the box without its terminator is accepted, as readers do.
func (r *bytesReader) cstring() string {
	if r.err != nil {
		return ""
	}
	rest := r.p[r.off:]
	for i, c := range rest {
		if c == 0 {
			r.off += i + 1
			return string(rest[:i])
		}
	}
	r.off = len(r.p)
	return string(rest)
}

// count reads nothing: it checks that n entries of at least size bytes each
// can still follow, so that a loop bounded by n never runs on a lying count.
func (r *bytesReader) count(n uint64, size int) bool {
	if r.err != nil {
		return false
	}
	if n > uint64(r.left()/max(size, 1)) {
		r.fail("count %d does not fit in the box", n)
		return false
	}
	return true
}

// boxWriter builds boxes in memory; every box it writes is smaller than 4 GB
// because the whole meta box is bounded.
type boxWriter struct{ b []byte }

// open starts a box of type typ and returns the position of its size field.
func (w *boxWriter) open(typ string) int {
	at := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	w.b = append(w.b, typ...)
	return at
}

// openFull starts a FullBox.
func (w *boxWriter) openFull(typ string, version uint8, flags uint32) int {
	at := w.open(typ)
	w.u32(uint32(version)<<24 | flags&0xFFFFFF)
	return at
}

// close patches the size of the box opened at at. Boxes built in memory
// stay far below 4 GB: the meta box they come from is bounded by maxHEIFMeta.
func (w *boxWriter) close(at int) {
	binary.BigEndian.PutUint32(w.b[at:], uint32(len(w.b)-at))
}

func (w *boxWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *boxWriter) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *boxWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

// uint writes v in n bytes (0, 2, 4 or 8); the caller chose n wide enough.
func (w *boxWriter) uint(n int, v uint64) {
	switch n {
	case 2:
		w.u16(uint16(v))
	case 4:
		w.u32(uint32(v))
	case 8:
		w.b = binary.BigEndian.AppendUint64(w.b, v)
	}
}

func (w *boxWriter) raw(p []byte) { w.b = append(w.b, p...) }
