package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// heifPlan says what Strip removes from a meta box.
type heifPlan struct {
	drop       map[uint32]string // dropped item → what it was
	dropGroups map[uint32]bool
	props      [][]byte // the ipco boxes to write, one for each property
}

func (p *heifPlan) dropped(id uint32) bool {
	_, ok := p.drop[id]
	return ok || p.dropGroups[id]
}

// plan decides which items go. Metadata items (Exif, MIME such as XMP,
// URI) and any item of a type that is not an image go, and so do
// thumbnails. Then, until nothing changes, so does what only a dropped item
// needs: an item attached to dropped items only (their alpha or depth plane,
// their metadata) and an item used only as input by dropped derived images
// (the tiles of a thumbnail grid). What a kept image needs must be kept: if
// not, the file is refused rather than damaged.
func (m *heifMeta) plan() (*heifPlan, error) {
	p := &heifPlan{drop: map[uint32]string{}, dropGroups: map[uint32]bool{}}
	for _, it := range m.items {
		switch {
		case it.typ == "Exif":
			p.drop[it.id] = "Exif"
		case it.typ == "mime" && isXMPType(it.contentType):
			p.drop[it.id] = "XMP"
		case it.typ == "mime":
			p.drop[it.id] = "MIME item"
		case it.typ == "uri ":
			p.drop[it.id] = "URI item"
		case !heifImageTypes[it.typ]:
			p.drop[it.id] = fmt.Sprintf("%q item", it.typ)
		}
	}
	for _, r := range m.refs {
		if r.typ == "thmb" && m.byID[r.from] != nil && p.drop[r.from] == "" {
			p.drop[r.from] = "thumbnail"
		}
	}
	// What is left to drop follows from counts: how many of an item's
	// attachment targets, and how many of the derived images that use it,
	// are still kept. Dropping an item lowers the counts of its neighbours
	// only, so hostile reference graphs cost linear time.
	attachedTo := map[uint32][]uint32{} // target → items attached to it
	inputs := map[uint32][]uint32{}     // derived image → its inputs
	targetsKept := map[uint32]int{}     // item → attachment targets not dropped
	usersKept := map[uint32]int{}       // item → derived images using it, not dropped
	for _, r := range m.refs {
		switch r.typ {
		case "auxl", "thmb", "cdsc":
			for _, to := range r.to {
				attachedTo[to] = append(attachedTo[to], r.from)
				targetsKept[r.from]++
			}
		case "dimg":
			inputs[r.from] = append(inputs[r.from], r.to...)
			for _, to := range r.to {
				usersKept[to]++
			}
		}
	}
	var queue []uint32
	for id := range p.drop {
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, y := range attachedTo[id] {
			if targetsKept[y]--; targetsKept[y] == 0 && m.byID[y] != nil && !p.dropped(y) && y != m.primary {
				p.drop[y] = "part of a dropped item"
				queue = append(queue, y)
			}
		}
		for _, y := range inputs[id] {
			if usersKept[y]--; usersKept[y] == 0 && m.byID[y] != nil && !p.dropped(y) && y != m.primary {
				p.drop[y] = "part of a dropped item"
				queue = append(queue, y)
			}
		}
	}
	if why, ok := p.drop[m.primary]; ok {
		return nil, m.errorf(m.at, "the primary item %d is not an image (%s)", m.primary, why)
	}
	for _, r := range m.refs {
		if r.typ != "dimg" || p.dropped(r.from) || m.byID[r.from] == nil {
			continue
		}
		for _, to := range r.to {
			if why, ok := p.drop[to]; ok {
				return nil, heifUnsupported(m.f, "HEIF whose image %d is derived from item %d (%s)", r.from, to, why)
			}
		}
	}
	for _, g := range m.groups {
		if !heifGroupsKept[g.typ] || slices.ContainsFunc(g.entities, func(id uint32) bool { _, ok := p.drop[id]; return ok }) {
			p.dropGroups[g.id] = true
		}
	}
	// A property veil does not know is replaced by an empty box; an item
	// that cannot be displayed without it must not be kept that way.
	used := make([]bool, len(m.props))
	for _, ip := range m.ipmas {
		for _, a := range ip.entries {
			if p.dropped(a.id) {
				continue
			}
			for _, x := range a.props {
				i := int(x & 0x7FFF)
				if i == 0 {
					continue
				}
				used[i-1] = true
				if x&0x8000 != 0 && !heifPropsKept[m.props[i-1].typ] && heifPropsBlank[m.props[i-1].typ] == nil {
					return nil, heifUnsupported(m.f, "HEIF whose item %d needs the unknown property %q", a.id, m.props[i-1].typ)
				}
			}
		}
	}
	// Every property keeps its place, for ipma's indexes; one that only
	// dropped items used (a thumbnail's size and decoder configuration)
	// becomes an empty box too.
	for i, pr := range m.props {
		clean, repl := propClean(pr)
		switch {
		case !used[i]:
			p.props = append(p.props, emptyFree)
		case clean:
			p.props = append(p.props, pr.raw)
		default:
			p.props = append(p.props, repl)
		}
	}
	return p, nil
}

// emptyFree is the box that takes the place of a property Strip removes.
var emptyFree = []byte{0, 0, 0, 8, 'f', 'r', 'e', 'e'}

func isXMPType(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "rdf+xml") || strings.Contains(ct, "xmp")
}

// propClean reports whether an ipco property is one Strip keeps as it is
// (or has already neutralised), and if not, the box Strip writes instead.
func propClean(p heifProp) (clean bool, replacement []byte) {
	if profile, ok := colrICC(p); ok {
		// HEIF §6.5.5 colr with an ICC profile: the profile made neutral,
		// or, when it is malformed, an empty box and the image's default
		// colour (see sanitizeICC).
		clean, err := sanitizeICC(profile)
		if err != nil {
			return false, emptyFree
		}
		var w boxWriter
		at := w.open(p.typ)
		w.raw(p.body[:4])
		w.raw(clean)
		w.close(at)
		return bytes.Equal(p.raw, w.b), w.b
	}
	if heifPropsKept[p.typ] {
		return true, nil
	}
	blank, ok := heifPropsBlank[p.typ]
	if !ok {
		return bytes.Equal(p.raw, emptyFree), emptyFree
	}
	var w boxWriter
	at := w.open(p.typ)
	w.raw(blank)
	w.close(at)
	return bytes.Equal(p.raw, w.b), w.b
}

// colrICC returns the ICC profile a colr property carries (ISO/IEC
// 14496-12 §12.1.5: colour type "prof" or "rICC" and the profile).
func colrICC(p heifProp) ([]byte, bool) {
	if p.typ != "colr" || len(p.body) < 4 {
		return nil, false
	}
	if t := string(p.body[:4]); t != "prof" && t != "rICC" {
		return nil, false
	}
	return p.body[4:], true
}

// heifLayout is where the kept items' bytes go in the output.
type heifLayout struct {
	offSize, lenSize int
	ext              map[uint32][]heifExtent // new extents: relative to the mdat data (method 0) or offsets into idat (method 1)
	idat             []byte
	copies           []heifExtent // input extents copied into the new mdat, in order
	mdatLen          int64
	dataStart        int64 // file offset of the new mdat's data
}

// layout places every kept item's extents: method 0 extents one after
// another in a new mdat, method 1 extents in a new idat, each item's in
// its own order so that its bytes are contiguous.
func (m *heifMeta) layout(p *heifPlan) *heifLayout {
	l := &heifLayout{offSize: 4, lenSize: 4, ext: map[uint32][]heifExtent{}}
	for _, id := range m.located {
		if p.dropped(id) {
			continue
		}
		it := m.byID[id]
		var ext []heifExtent
		for _, x := range it.extents {
			if x.n > math.MaxUint32 {
				l.lenSize = 8
			}
			if it.inIdat {
				ext = append(ext, heifExtent{int64(len(l.idat)), x.n})
				l.idat = append(l.idat, m.idat[x.off:x.off+x.n]...)
			} else {
				ext = append(ext, heifExtent{l.mdatLen, x.n})
				l.copies = append(l.copies, x)
				l.mdatLen += x.n
			}
		}
		l.ext[id] = ext
	}
	return l
}

// build writes the stripped meta box: only the allowlisted children, the
// dropped items removed from every table, the ipco properties at their
// indexes with free text blanked, and iloc pointing at the new layout.
func (m *heifMeta) build(p *heifPlan, l *heifLayout) []byte {
	var w boxWriter
	meta := w.openFull("meta", 0, 0)

	hdlr := w.openFull("hdlr", 0, 0)
	w.u32(0)
	w.raw([]byte("pict"))
	w.raw(make([]byte, 12))
	w.u8(0) // empty name
	w.close(hdlr)

	if m.hasDinf {
		dinf := w.open("dinf")
		dref := w.openFull("dref", 0, 0)
		w.u32(1)
		w.close(w.openFull("url ", 0, 1)) // self-contained: this file
		w.close(dref)
		w.close(dinf)
	}

	pitmV := uint8(0)
	if m.primary > 0xFFFF {
		pitmV = 1
	}
	pitm := w.openFull("pitm", pitmV, 0)
	if pitmV == 0 {
		w.u16(uint16(m.primary))
	} else {
		w.u32(m.primary)
	}
	w.close(pitm)

	// iinf, with each kept infe rewritten without its name.
	kept := 0
	for _, it := range m.items {
		if !p.dropped(it.id) {
			kept++
		}
	}
	iinfV := m.iinfVersion
	if kept > 0xFFFF {
		iinfV = max(iinfV, 1) // a 16-bit entry count cannot say how many
	}
	iinf := w.openFull("iinf", iinfV, 0)
	if iinfV == 0 {
		w.u16(uint16(kept))
	} else {
		w.u32(uint32(kept))
	}
	for _, it := range m.items {
		if p.dropped(it.id) {
			continue
		}
		v, flags := uint8(2), uint32(0)
		if it.id > 0xFFFF {
			v = 3
		}
		if it.hidden {
			flags = 1
		}
		infe := w.openFull("infe", v, flags)
		if v == 2 {
			w.u16(uint16(it.id))
		} else {
			w.u32(it.id)
		}
		w.u16(0) // item_protection_index
		w.raw([]byte(it.typ))
		w.u8(0) // empty item_name
		w.close(infe)
	}
	w.close(iinf)

	// iref, without references from or to dropped items.
	idSize := 2
	if m.irefVersion != 0 {
		idSize = 4
	}
	var refs boxWriter
	for _, r := range m.refs {
		if p.dropped(r.from) {
			continue
		}
		var to []uint32
		for _, t := range r.to {
			if !p.dropped(t) {
				to = append(to, t)
			}
		}
		if len(to) == 0 {
			continue
		}
		at := refs.open(r.typ)
		refs.uint(idSize, uint64(r.from))
		refs.u16(uint16(len(to)))
		for _, t := range to {
			refs.uint(idSize, uint64(t))
		}
		refs.close(at)
	}
	if len(refs.b) > 0 {
		iref := w.openFull("iref", m.irefVersion, 0)
		w.raw(refs.b)
		w.close(iref)
	}

	// iprp: every ipco property keeps its index.
	if m.seen["iprp"] {
		iprp := w.open("iprp")
		ipco := w.open("ipco")
		for _, b := range p.props {
			w.raw(b)
		}
		w.close(ipco)
		for _, ip := range m.ipmas {
			ipma := w.openFull("ipma", ip.version, ip.flags)
			n := 0
			for _, a := range ip.entries {
				if !p.dropped(a.id) {
					n++
				}
			}
			w.u32(uint32(n))
			for _, a := range ip.entries {
				if p.dropped(a.id) {
					continue
				}
				if ip.version >= 1 {
					w.u32(a.id)
				} else {
					w.u16(uint16(a.id))
				}
				w.u8(uint8(len(a.props)))
				for _, x := range a.props {
					if ip.flags&1 != 0 {
						w.u16(x)
					} else {
						w.u8(uint8(x>>8&0x80 | x&0x7F))
					}
				}
			}
			w.close(ipma)
		}
		w.close(iprp)
	}

	// iloc, pointing at the new mdat and idat.
	v := m.ilocVersion
	iloc := w.openFull("iloc", v, 0)
	w.u16(uint16(l.offSize<<12 | l.lenSize<<8))
	n := 0
	for _, id := range m.located {
		if !p.dropped(id) {
			n++
		}
	}
	if v < 2 {
		w.u16(uint16(n))
	} else {
		w.u32(uint32(n))
	}
	for _, id := range m.located {
		if p.dropped(id) {
			continue
		}
		it := m.byID[id]
		if v < 2 {
			w.u16(uint16(id))
		} else {
			w.u32(id)
		}
		if v >= 1 {
			if it.inIdat {
				w.u16(1)
			} else {
				w.u16(0)
			}
		}
		w.u16(0) // data_reference_index: this file
		ext := l.ext[id]
		w.u16(uint16(len(ext)))
		for _, x := range ext {
			off := x.off
			if !it.inIdat {
				off += l.dataStart
			}
			w.uint(l.offSize, uint64(off))
			w.uint(l.lenSize, uint64(x.n))
		}
	}
	w.close(iloc)

	if m.hasIdat {
		idat := w.open("idat")
		w.raw(l.idat)
		w.close(idat)
	}

	var groups boxWriter
	for _, g := range m.groups {
		if !p.dropGroups[g.id] {
			groups.raw(g.raw)
		}
	}
	if len(groups.b) > 0 {
		grpl := w.open("grpl")
		w.raw(groups.b)
		w.close(grpl)
	}

	w.close(meta)
	return w.b
}

// itemDigests hashes every kept item's bytes (its extents in order) as
// they are in the input: the self-check must find the same in the output.
func (h *heifFile) itemDigests(r io.ReaderAt, p *heifPlan) (map[uint32][sha256.Size]byte, error) {
	sums := map[uint32][sha256.Size]byte{}
	buf := make([]byte, 64<<10)
	hash := sha256.New()
	for _, it := range h.meta.items {
		if p.dropped(it.id) {
			continue
		}
		hash.Reset()
		for _, x := range it.extents {
			if it.inIdat {
				hash.Write(h.meta.idat[x.off : x.off+x.n])
				continue
			}
			if _, err := io.CopyBuffer(hash, io.NewSectionReader(r, x.off, x.n), buf); err != nil {
				return nil, formatErr(h.f, x.off, err)
			}
		}
		sums[it.id] = [sha256.Size]byte(hash.Sum(nil))
	}
	return sums, nil
}

// parseAndPlan parses a HEIF file and decides what Strip drops from it: what
// Strip and Scan both start with, so that Scan refuses what Strip refuses.
func parseAndPlan(f Format, r io.ReaderAt, size int64) (*heifFile, *heifPlan, error) {
	h, err := parseHEIF(f, r, size)
	if err != nil {
		return nil, nil, err
	}
	p, err := h.meta.plan()
	if err != nil {
		return nil, nil, err
	}
	return h, p, nil
}

// stripHEIF writes a HEIF holding ftyp, the rewritten meta and one mdat
// with the kept items' bytes, after hashing those bytes for the self-check.
func stripHEIF(w io.Writer, r io.ReaderAt, size int64, res *Result, pf *proof) error {
	h, p, err := parseAndPlan(res.Format, r, size)
	if err != nil {
		return err
	}
	m := h.meta
	var ok bool
	if res.Width, res.Height, ok = m.size(m.primary); !ok {
		return m.errorf(m.at, "primary item %d has no size (ispe)", m.primary)
	}
	res.Orientation = m.orientation(m.primary) // irot and imir are kept
	if pf.items, err = h.itemDigests(r, p); err != nil {
		return err
	}
	pf.primary = m.primary
	res.Dropped = append(res.Dropped, h.droppedKinds(p)...)
	return h.write(w, r, p)
}

// write writes the file without what p drops: ftyp as it is, the rebuilt
// meta and one mdat with the kept items' bytes. The meta is built once to
// learn its size, then again with the final offsets.
func (h *heifFile) write(w io.Writer, r io.ReaderAt, p *heifPlan) error {
	m := h.meta
	l := m.layout(p)
	ftyp := make([]byte, h.ftyp.end)
	if _, err := r.ReadAt(ftyp, 0); err != nil {
		return formatErr(h.f, 0, err)
	}
	mdatHdr := int64(8)
	if l.mdatLen > math.MaxUint32-8 {
		mdatHdr = 16
	}
	if l.mdatLen == 0 {
		mdatHdr = 0
	}
	metaLen := int64(len(m.build(p, l)))
	if int64(len(ftyp))+metaLen+mdatHdr+l.mdatLen > math.MaxUint32 {
		l.offSize = 8
		metaLen = int64(len(m.build(p, l)))
	}
	l.dataStart = int64(len(ftyp)) + metaLen + mdatHdr
	meta := m.build(p, l)
	if int64(len(meta)) != metaLen {
		return fmt.Errorf("photo: internal error: meta box changed size from %d to %d", metaLen, len(meta))
	}

	if _, err := w.Write(ftyp); err != nil {
		return err
	}
	if _, err := w.Write(meta); err != nil {
		return err
	}
	if mdatHdr == 0 {
		return nil
	}
	var hdr []byte
	if mdatHdr == 8 {
		hdr = binary.BigEndian.AppendUint32(nil, uint32(8+l.mdatLen))
		hdr = append(hdr, "mdat"...)
	} else {
		hdr = append(binary.BigEndian.AppendUint32(nil, 1), "mdat"...)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(16+l.mdatLen))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for _, x := range l.copies {
		if _, err := io.Copy(w, io.NewSectionReader(r, x.off, x.n)); err != nil {
			return formatErr(h.f, x.off, err)
		}
	}
	return nil
}

// droppedKinds lists what Strip removes, by kind, for Result.Dropped.
func (h *heifFile) droppedKinds(p *heifPlan) []string {
	var out []string
	for _, b := range h.dropped {
		out = append(out, strings.TrimSpace(b.typ)+" box")
	}
	m := h.meta
	for _, t := range m.other {
		out = append(out, strings.TrimSpace(t)+" box")
	}
	for _, it := range m.items {
		if why, ok := p.drop[it.id]; ok {
			out = append(out, why)
		}
	}
	for _, pr := range m.props {
		if clean, _ := propClean(pr); !clean {
			if _, ok := colrICC(pr); ok {
				out = append(out, "ICC profile text")
				continue
			}
			out = append(out, strings.TrimSpace(pr.typ)+" property")
		}
	}
	if m.handlerName != "" {
		out = append(out, "handler name")
	}
	if slices.ContainsFunc(m.items, func(it *heifItem) bool { return it.name != "" && !p.dropped(it.id) }) {
		out = append(out, "item names")
	}
	if n := h.unreferenced(); n > 0 {
		out = append(out, fmt.Sprintf("%d unreferenced bytes in mdat", n))
	}
	return out
}
