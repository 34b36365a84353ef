package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"slices"
)

// tiffOut is where Strip puts one page in its output.
type tiffOut struct {
	ifd     []byte // the IFD and its out-of-line values
	offsets []uint64
	next    int64 // where the page ends
}

// layout places page p's IFD at off, its out-of-line values after it and
// its strips or tiles after those, each in the input's order. Offsets and
// byte counts are written as LONG, which every reader accepts.
func (t *tiffFile) layout(p *tiffPage, off int64) tiffOut {
	offTag, cntTag := uint16(tagStripOffsets), uint16(tagStripByteCounts)
	if p.tiled {
		offTag, cntTag = tagTileOffsets, tagTileByteCounts
	}
	var fields []tiffEntry
	for _, e := range p.entries {
		switch {
		case !tiffKept[e.tag]:
			continue
		case e.tag == offTag || e.tag == cntTag:
			e.typ, e.count = tiffLong, uint32(len(p.counts))
			e.val = make([]byte, 4*len(p.counts))
		case e.tag == tagStripOffsets || e.tag == tagStripByteCounts || e.tag == tagTileOffsets || e.tag == tagTileByteCounts:
			continue // the other layout's tags: a reader of this one ignores them
		}
		fields = append(fields, e)
	}
	ifdLen := int64(2 + 12*len(fields) + 4)
	valAt := off + ifdLen
	data := valAt
	for _, e := range fields {
		if n := int64(len(e.val)); n > 4 {
			data += n + n&1
		}
	}
	out := tiffOut{}
	pos := data
	for _, c := range p.counts {
		out.offsets = append(out.offsets, uint64(pos))
		pos += int64(c)
	}
	out.next = pos + pos&1
	b := t.bo.AppendUint16(nil, uint16(len(fields)))
	var values []byte
	for _, e := range fields {
		v := e.val
		if e.tag == offTag || e.tag == cntTag {
			src := p.counts
			if e.tag == offTag {
				src = out.offsets
			}
			v = v[:0]
			for _, x := range src {
				v = t.bo.AppendUint32(v, uint32(x))
			}
		}
		b = t.bo.AppendUint16(b, e.tag)
		b = t.bo.AppendUint16(b, e.typ)
		b = t.bo.AppendUint32(b, e.count)
		if len(v) <= 4 {
			var inline [4]byte
			copy(inline[:], v)
			b = append(b, inline[:]...)
			continue
		}
		b = t.bo.AppendUint32(b, uint32(valAt))
		values = append(values, v...)
		valAt += int64(len(v))
		if len(v)&1 == 1 {
			values = append(values, 0)
			valAt++
		}
	}
	b = t.bo.AppendUint32(b, 0) // the next IFD, set by the caller
	out.ifd = append(b, values...)
	return out
}

// digests hashes each page's strips or tiles, in order, as they are in r:
// the self-check must find the same bytes in the output.
func (t *tiffFile) digests(r io.ReaderAt) ([][sha256.Size]byte, error) {
	var sums [][sha256.Size]byte
	for _, p := range t.pages {
		h := sha256.New()
		for i, o := range p.offsets {
			if _, err := io.Copy(h, io.NewSectionReader(r, int64(o), int64(p.counts[i]))); err != nil {
				return nil, formatErr(TIFF, int64(o), err)
			}
		}
		sums = append(sums, [sha256.Size]byte(h.Sum(nil)))
	}
	return sums, nil
}

// stripTIFF writes a TIFF holding every page with only its image-structure
// tags, its strips or tiles copied byte for byte, in the input's byte order.
func stripTIFF(w io.Writer, r io.ReaderAt, size int64, res *Result, pf *proof) error {
	t, err := parseTIFF(r, size, false)
	if err != nil {
		return err
	}
	if err := t.checkJPEGData(r); err != nil {
		return err
	}
	res.Width, res.Height, res.Orientation = t.geometry()
	if pf.tiff, err = t.digests(r); err != nil {
		return err
	}
	res.Dropped = append(res.Dropped, t.droppedKinds()...)
	res.Dropped = append(res.Dropped, t.sanitizeICCTags()...)
	outs := make([]tiffOut, len(t.pages))
	at := int64(8)
	for i, p := range t.pages {
		outs[i] = t.layout(p, at)
		at = outs[i].next
	}
	if at > 1<<32-1 {
		return &UnsupportedError{Format: TIFF, Detail: "TIFF larger than 4 GB once rewritten"}
	}
	hdr := []byte("II*\x00")
	if t.bo == binary.BigEndian {
		hdr = []byte("MM\x00*")
	}
	hdr = t.bo.AppendUint32(hdr, 8)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	pos := int64(8)
	for i, p := range t.pages {
		o := outs[i]
		if i+1 < len(outs) {
			n := 2 + 12*int(t.bo.Uint16(o.ifd))
			t.bo.PutUint32(o.ifd[n:], uint32(o.next))
		}
		if _, err := w.Write(o.ifd); err != nil {
			return err
		}
		pos += int64(len(o.ifd))
		for k, off := range p.offsets {
			if _, err := io.Copy(w, io.NewSectionReader(r, int64(off), int64(p.counts[k]))); err != nil {
				return formatErr(TIFF, int64(off), err)
			}
			pos += int64(p.counts[k])
		}
		if i+1 < len(outs) && pos < o.next {
			if _, err := w.Write([]byte{0}); err != nil {
				return err
			}
			pos++
		}
	}
	return nil
}

// droppedKinds lists the dropped tags by name where veil knows it.
func (t *tiffFile) droppedKinds() []string {
	var out []string
	seen := map[uint16]bool{}
	for _, p := range t.pages {
		for _, e := range p.entries {
			if tiffKept[e.tag] || seen[e.tag] {
				continue
			}
			seen[e.tag] = true
			out = append(out, tiffTagName(e.tag))
		}
	}
	return out
}

// sanitizeICCTags makes each page's ICC profile (tag 34675, ICC.1:2022
// Annex B.5: UNDEFINED or BYTE) neutral with sanitizeICC, or drops the tag
// when the profile is malformed, and says what it changed.
func (t *tiffFile) sanitizeICCTags() []string {
	var out []string
	note := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, p := range t.pages {
		p.entries = slices.DeleteFunc(p.entries, func(e tiffEntry) bool {
			if e.tag != tagICC {
				return false
			}
			clean, err := sanitizeICC(e.val)
			if err != nil || e.typ != 1 && e.typ != 7 {
				note("ICC profile (malformed)")
				return true
			}
			if !bytes.Equal(clean, e.val) {
				note("ICC profile text")
			}
			return false
		})
		for i := range p.entries {
			if e := &p.entries[i]; e.tag == tagICC {
				e.val, _ = sanitizeICC(e.val)
				e.count = uint32(len(e.val))
			}
		}
	}
	return out
}
