package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/veil-photo/veil/photo"
)

// arrivingWindow is how long after its last write a photo that ends early is
// taken for a copy still arriving, and left for the next pass, rather than
// for a damaged file. --settle catches a copy that writes steadily; this
// catches one that pauses for longer, as a copy over SMB from a laptop on
// Wi-Fi does when the link drops and the client reconnects (an SMB client
// may hold its handle across a minute or more of reconnecting). Five
// minutes covers such pauses; a file still cut short after that is
// damaged, and quarantined.
const arrivingWindow = 5 * time.Minute

// stillArriving returns the Left result for a photo that Strip refused as
// damaged (err) when it ends before its own structure says it does and was
// written to within arrivingWindow: a copy still in progress, or cut short
// moments ago. ok is false for anything else, which is quarantined.
func (p *Pipeline) stillArriving(n *newPhoto, err error) (r result, ok bool) {
	var fe *photo.FormatError
	if !errors.As(err, &fe) || time.Since(n.c.fi.ModTime()) >= arrivingWindow || !endsEarly(n.src, n.size) {
		return result{}, false
	}
	return result{ev: Event{Kind: Left, Path: n.c.path,
		Message: "ends early and was written to moments ago: still being copied? left for the next run (quarantined as damaged if still cut short " + arrivingWindow.String() + " after its last change)"}}, true
}

// endsEarly reports whether a JPEG, PNG, WebP, HEIC or AVIF file of size
// bytes stops before the end its own structure announces: the JPEG's EOI
// marker, the PNG's IEND chunk, the WebP's RIFF size, or the ISO BMFF
// top-level box that holds the end of the file.
func endsEarly(src io.ReaderAt, size int64) bool {
	head := make([]byte, min(size, photo.SniffLen))
	if _, err := src.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	f, err := photo.Sniff(head)
	if err != nil {
		return false
	}
	switch f {
	case photo.JPEG:
		return jpegEndsEarly(io.NewSectionReader(src, 0, size))
	case photo.PNG:
		// The IEND chunk, whole with its CRC, anywhere: a trailer may
		// follow it.
		return !contains(io.NewSectionReader(src, 0, size), []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82})
	case photo.WebP:
		return len(head) >= 8 && int64(binary.LittleEndian.Uint32(head[4:8]))+8 > size
	case photo.HEIF, photo.AVIF:
		return boxesEndEarly(src, size)
	}
	return false
}

// jpegEndsEarly follows the segments of a JPEG (ITU T.81, B.1.1) and the
// entropy-coded data after each SOS, and reports whether the file ends
// before the EOI marker of the image: what follows EOI (a motion photo's
// video, a trailer) does not count.
func jpegEndsEarly(r io.Reader) bool {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Discard(2); err != nil { // SOI
		return true
	}
	var hdr [3]byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return true
		}
		if hdr[0] != 0xff {
			return false // malformed, not short
		}
		marker := hdr[1]
		switch {
		case marker == 0xd9: // EOI
			return false
		case marker == 0xff: // fill byte
			br.UnreadByte()
			continue
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd7: // no length
			continue
		}
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return true
		}
		n := int(binary.BigEndian.Uint16(hdr[:2]))
		if n < 2 {
			return false
		}
		if _, err := br.Discard(n - 2); err != nil {
			return true
		}
		if marker != 0xda { // SOS: entropy-coded data follows
			continue
		}
		// Up to the next marker that is not a stuffed 0x00 or an RSTn.
		for {
			b, err := br.ReadByte()
			if err != nil {
				return true
			}
			if b != 0xff {
				continue
			}
			next, err := br.ReadByte()
			if err != nil {
				return true
			}
			if next == 0 || next >= 0xd0 && next <= 0xd7 {
				continue
			}
			if next == 0xff {
				br.UnreadByte()
				continue
			}
			br.UnreadByte()
			br.UnreadByte()
			break
		}
	}
}

// contains reports whether r holds needle.
func contains(r io.Reader, needle []byte) bool {
	buf := make([]byte, 64<<10)
	keep := 0
	for {
		n, err := r.Read(buf[keep:])
		if bytes.Contains(buf[:keep+n], needle) {
			return true
		}
		if err != nil {
			return false
		}
		// Keep the last len(needle)-1 bytes: a match may straddle reads.
		k := min(len(needle)-1, keep+n)
		copy(buf, buf[keep+n-k:keep+n])
		keep = k
	}
}

// boxesEndEarly walks the top-level boxes of an ISO BMFF file (ISO/IEC
// 14496-12, 4.2) and reports whether one runs past the end of the file.
func boxesEndEarly(src io.ReaderAt, size int64) bool {
	var hdr [16]byte
	for off := int64(0); off < size; {
		if size-off < 8 {
			return true // a box header cut short
		}
		if _, err := src.ReadAt(hdr[:8], off); err != nil {
			return false
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		switch n {
		case 0: // the box runs to the end of the file
			return false
		case 1: // a 64-bit size follows the type
			if size-off < 16 {
				return true
			}
			if _, err := src.ReadAt(hdr[8:16], off+8); err != nil {
				return false
			}
			n = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if n < 8 {
			return false // malformed, not short
		}
		if n > size-off {
			return true
		}
		off += n
	}
	return false
}
