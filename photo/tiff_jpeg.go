package photo

import (
	"encoding/binary"
	"io"
)

// checkJPEGData refuses a JPEG-compressed TIFF (compression 7, TIFF
// Technical Note 2) whose tables or strips carry APPn or COM segments:
// copied byte for byte, they would carry their metadata along.
func (t *tiffFile) checkJPEGData(r io.ReaderAt) error {
	for _, p := range t.pages {
		if t.first(p, tagCompression, 1) != 7 {
			continue
		}
		if e := p.entry(tagJPEGTables); e != nil && !jpegHeaderClean(e.val) {
			return &UnsupportedError{Format: TIFF, Detail: "TIFF whose JPEG tables carry metadata segments"}
		}
		for i, o := range p.offsets {
			head := make([]byte, min(p.counts[i], 1<<16))
			if err := readAtFull(r, head, int64(o)); err != nil {
				return err
			}
			if !jpegHeaderClean(head) {
				return &UnsupportedError{Format: TIFF, Detail: "TIFF whose JPEG strips or tiles carry metadata segments"}
			}
		}
	}
	return nil
}

// jpegHeaderClean reports whether the marker segments of a JPEG stream
// before its first scan (or its end) hold no APPn other than an Adobe
// colour transform and no comment. A header cut short by the 64 KiB read is
// clean only as far as it goes: the tables come first.
func jpegHeaderClean(b []byte) bool {
	if len(b) < 2 || b[0] != 0xFF || b[1] != mSOI {
		return false
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return false
		}
		m := b[i+1]
		switch {
		case m == 0xFF:
			i++
			continue
		case m == mEOI || m == mSOS:
			return true
		case isRST(m) || m == mTEM:
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return false
		}
		if m == mCOM || isAPP(m) && !(m == mAPP14 && classifyJPEG(m, b[i+4:min(len(b), i+2+n)]) == segAdobe && n == 14) {
			return false
		}
		i += 2 + n
	}
	return true
}
