package photo

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"slices"
)

// checkTIFF re-parses a stripped TIFF from a stream. Strip writes each
// page's IFD, its values and its image data in file order, so the check
// reads forward only: every IFD entry must be a kept tag, every page's
// strips or tiles must hash as they did in the input, and nothing may
// follow the last page.
func checkTIFF(r io.Reader, pf *proof) error {
	br := getReader(r)
	defer putReader(br)
	var pos int64
	read := func(b []byte) error {
		n, err := io.ReadFull(br, b)
		pos += int64(n)
		return formatErr(TIFF, pos, err)
	}
	skipTo := func(off int64) error {
		if off < pos {
			return tiffErr(pos, "offset %d points back into what was read", off)
		}
		n, err := io.CopyN(io.Discard, br, off-pos)
		pos += n
		return formatErr(TIFF, pos, err)
	}
	var hdr [8]byte
	if err := read(hdr[:]); err != nil {
		return err
	}
	t := &tiffFile{size: 1<<32 - 1}
	switch string(hdr[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return tiffErr(0, "missing TIFF header")
	}
	page := 0
	for next := int64(t.bo.Uint32(hdr[4:])); next != 0; page++ {
		if page >= len(pf.tiff) {
			return tiffErr(next, "more pages than the input has")
		}
		if err := skipTo(next); err != nil {
			return err
		}
		var c [2]byte
		if err := read(c[:]); err != nil {
			return err
		}
		n := int(t.bo.Uint16(c[:]))
		raw := make([]byte, 12*n+4)
		if err := read(raw); err != nil {
			return err
		}
		p := &tiffPage{at: next}
		for i := range n {
			b := raw[12*i:]
			e := tiffEntry{tag: t.bo.Uint16(b), typ: t.bo.Uint16(b[2:]), count: t.bo.Uint32(b[4:])}
			if !tiffKept[e.tag] {
				return tiffErr(next, "%s tag left in output", tiffTagName(e.tag))
			}
			if len(p.entries) > 0 && e.tag <= p.entries[len(p.entries)-1].tag {
				return tiffErr(next, "IFD entries are not in ascending tag order")
			}
			sz := e.size()
			switch {
			case sz < 0:
				return tiffErr(next, "tag %d has unknown type %d", e.tag, e.typ)
			case e.tag == tagICC && sz <= 4:
				return tiffErr(next, "ICC profile of %d bytes", sz)
			case sz <= 4:
				e.val = b[8 : 8+sz]
			default:
				e.valOff = int64(t.bo.Uint32(b[8:]))
			}
			p.entries = append(p.entries, e)
		}
		// Out-of-line values, in file order; only those the check needs
		// are kept in memory.
		order := make([]int, 0, len(p.entries))
		for i, e := range p.entries {
			if e.val == nil {
				order = append(order, i)
			}
		}
		slices.SortFunc(order, func(a, b int) int { return int(p.entries[a].valOff - p.entries[b].valOff) })
		for _, i := range order {
			e := &p.entries[i]
			if err := skipTo(e.valOff); err != nil {
				return err
			}
			sz := e.size()
			switch e.tag {
			case tagStripOffsets, tagStripByteCounts, tagTileOffsets, tagTileByteCounts, tagJPEGTables:
				if sz > 8*maxTIFFChunks {
					return tiffErr(pos, "tag %d holds %d bytes", e.tag, sz)
				}
				e.val = make([]byte, sz)
				if err := read(e.val); err != nil {
					return err
				}
			case tagICC:
				if sz > int64(maxICC) {
					return tiffErr(pos, "ICC profile of %d bytes", sz)
				}
				e.val = make([]byte, sz)
				if err := read(e.val); err != nil {
					return err
				}
				if !iccClean(e.val) {
					return tiffErr(pos, "ICC profile not made neutral")
				}
			default:
				if err := skipTo(pos + sz); err != nil {
					return err
				}
			}
		}
		if err := t.checkPage(p); err != nil {
			return err
		}
		if e := p.entry(tagJPEGTables); e != nil && t.first(p, tagCompression, 1) == 7 && !jpegHeaderClean(e.val) {
			return tiffErr(next, "JPEG tables carry metadata segments")
		}
		h := sha256.New()
		for i, o := range p.offsets {
			if err := skipTo(int64(o)); err != nil {
				return err
			}
			k, err := io.CopyN(h, br, int64(p.counts[i]))
			pos += k
			if err != nil {
				return formatErr(TIFF, pos, err)
			}
		}
		if [sha256.Size]byte(h.Sum(nil)) != pf.tiff[page] {
			return tiffErr(next, "page %d's image data differs from the input's", page+1)
		}
		next = int64(t.bo.Uint32(raw[12*n:]))
	}
	if page != len(pf.tiff) {
		return tiffErr(pos, "%d pages, the input has %d", page, len(pf.tiff))
	}
	if n, _ := io.Copy(io.Discard, br); n > 0 {
		return tiffErr(pos, "%d bytes after the last page", n)
	}
	return nil
}
