package photo

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
)

// parseMeta parses the body of a meta box (HEIF §6.2, a FullBox). at is
// the body's file offset and fileSize bounds the item extents in the file.
func parseMeta(f Format, p []byte, at, fileSize int64) (*heifMeta, error) {
	m := &heifMeta{f: f, at: at, byID: map[uint32]*heifItem{}, seen: map[string]bool{}}
	r := newBytesReader(f, "meta", p, at)
	if v, _ := r.fullBox(); r.err != nil || v != 0 {
		return nil, m.errorf(at, "meta box is not a version 0 FullBox")
	}
	boxes, err := childBoxes(f, p[4:], at+4)
	if err != nil {
		return nil, err
	}
	type locEntry struct {
		id        uint32
		method    uint16
		dataRef   uint16
		extents   []heifExtent
		entryFrom int64
	}
	var locs []locEntry
	for _, b := range boxes {
		body := p[4+b.body : 4+b.end]
		bat := at + 4 + b.body
		switch b.typ {
		case "hdlr", "pitm", "iinf", "iloc", "iref", "iprp", "idat", "dinf", "grpl":
			if m.seen[b.typ] {
				return nil, m.errorf(bat, "more than one %q box in meta", b.typ)
			}
			m.seen[b.typ] = true
		default:
			m.other = append(m.other, b.typ)
			continue
		}
		r := newBytesReader(f, b.typ, body, bat)
		switch b.typ {
		case "hdlr": // ISO 14496-12 §8.4.3
			r.fullBox()
			r.u32() // pre_defined
			m.handler = string(r.take(4))
			r.take(12)
			m.handlerName = r.cstring()
		case "pitm": // §8.11.4
			v, _ := r.fullBox()
			if v == 0 {
				m.primary = uint32(r.u16())
			} else {
				m.primary = r.u32()
			}
			m.hasPrimary = true
		case "iinf": // §8.11.6
			if err := m.parseIinf(r, body, bat); err != nil {
				return nil, err
			}
		case "iloc": // §8.11.3
			v, _ := r.fullBox()
			if v > 2 {
				return nil, heifUnsupported(f, "HEIF with iloc version %d", v)
			}
			m.ilocVersion = v
			x := r.u16()
			offSize, lenSize, baseSize, idxSize := int(x>>12), int(x>>8&15), int(x>>4&15), 0
			if v >= 1 {
				idxSize = int(x & 15)
			}
			for _, s := range []int{offSize, lenSize, baseSize, idxSize} {
				if s != 0 && s != 4 && s != 8 {
					return nil, m.errorf(bat+4, "iloc field size %d is not 0, 4 or 8", s)
				}
			}
			idSize := 2
			var n uint64
			if v < 2 {
				n = uint64(r.u16())
			} else {
				n, idSize = uint64(r.u32()), 4
			}
			entry := idSize + 2 + baseSize + 2
			if v >= 1 {
				entry += 2
			}
			if !r.count(n, entry) {
				return nil, r.err
			}
			for range n {
				e := locEntry{entryFrom: r.at + int64(r.off)}
				e.id = uint32(r.uint(idSize))
				if v >= 1 {
					e.method = r.u16() & 15
				}
				e.dataRef = r.u16()
				base := r.uint(baseSize)
				ne := uint64(r.u16())
				if !r.count(ne, idxSize+offSize+lenSize) {
					return nil, r.err
				}
				for range ne {
					r.uint(idxSize) // extent_index: only for construction method 2
					off, n := r.uint(offSize), r.uint(lenSize)
					if r.err != nil {
						return nil, r.err
					}
					if e.method > 1 {
						return nil, heifUnsupported(f, "HEIF with item data built from other items (iloc construction method %d)", e.method)
					}
					if n == 0 {
						return nil, heifUnsupported(f, "HEIF with an iloc extent of length 0 (the whole data)")
					}
					abs := base + off
					if abs < base || abs > math.MaxInt64 || n > math.MaxInt64-abs {
						return nil, m.errorf(e.entryFrom, "item %d: extent offset %d + %d overflows", e.id, base, off)
					}
					e.extents = append(e.extents, heifExtent{int64(abs), int64(n)})
				}
				locs = append(locs, e)
			}
		case "iref": // §8.11.12
			v, _ := r.fullBox()
			m.irefVersion = v
			idSize := 2
			if v != 0 {
				idSize = 4
			}
			refs, err := childBoxes(f, body[4:], bat+4)
			if err != nil {
				return nil, err
			}
			for _, rb := range refs {
				rr := newBytesReader(f, rb.typ, body[4+rb.body:4+rb.end], bat+4+rb.body)
				ref := heifRef{typ: rb.typ, from: uint32(rr.uint(idSize))}
				n := uint64(rr.u16())
				if !rr.count(n, idSize) {
					return nil, rr.err
				}
				for range n {
					ref.to = append(ref.to, uint32(rr.uint(idSize)))
				}
				if rr.err != nil {
					return nil, rr.err
				}
				m.refs = append(m.refs, ref)
			}
		case "iprp": // HEIF §9.3
			if err := m.parseIprp(body, bat); err != nil {
				return nil, err
			}
		case "idat": // §8.11.11
			m.hasIdat, m.idat = true, body
		case "dinf": // §8.7.1
			if err := m.parseDinf(body, bat); err != nil {
				return nil, err
			}
		case "grpl": // §8.18.3
			groups, err := childBoxes(f, body, bat)
			if err != nil {
				return nil, err
			}
			for _, gb := range groups {
				gr := newBytesReader(f, gb.typ, body[gb.body:gb.end], bat+gb.body)
				gr.fullBox()
				g := heifGroup{typ: gb.typ, id: gr.u32(), raw: body[gb.start:gb.end]}
				n := uint64(gr.u32())
				if !gr.count(n, 4) {
					return nil, gr.err
				}
				for range n {
					g.entities = append(g.entities, gr.u32())
				}
				if gr.err != nil {
					return nil, gr.err
				}
				m.groups = append(m.groups, g)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}

	switch {
	case !m.seen["hdlr"]:
		return nil, m.errorf(at, "meta box has no handler (hdlr)")
	case m.handler != "pict":
		return nil, heifUnsupported(f, "HEIF whose meta handler is %q, not pict", m.handler)
	case !m.hasPrimary:
		return nil, m.errorf(at, "no primary item (pitm)")
	case m.byID[m.primary] == nil:
		return nil, m.errorf(at, "primary item %d is not in iinf", m.primary)
	}
	for _, e := range locs {
		it := m.byID[e.id]
		if it == nil {
			return nil, m.errorf(e.entryFrom, "iloc locates item %d, which iinf does not declare", e.id)
		}
		if it.located {
			return nil, m.errorf(e.entryFrom, "iloc locates item %d twice", e.id)
		}
		if e.dataRef != 0 && (int(e.dataRef) > len(m.dref) || !m.dref[e.dataRef-1]) {
			return nil, heifUnsupported(f, "HEIF whose item %d is stored in another file", e.id)
		}
		it.located, it.inIdat, it.dataRef, it.extents = true, e.method == 1, e.dataRef, e.extents
		limit := fileSize
		if it.inIdat {
			limit = int64(len(m.idat))
		}
		for _, x := range it.extents {
			if x.off > limit || x.n > limit-x.off {
				where := "the file"
				if it.inIdat {
					where = "idat"
				}
				return nil, m.errorf(e.entryFrom, "item %d: extent of %d bytes at %d runs past the end of %s (%d bytes; truncated?)", e.id, x.n, x.off, where, limit)
			}
		}
		m.located = append(m.located, e.id)
	}
	if err := m.checkOverlaps(); err != nil {
		return nil, err
	}
	for _, ip := range m.ipmas {
		for _, a := range ip.entries {
			for _, x := range a.props {
				if i := int(x & 0x7FFF); i > len(m.props) {
					return nil, m.errorf(at, "ipma gives item %d property %d, but ipco holds %d", a.id, i, len(m.props))
				}
			}
		}
	}
	return m, nil
}

// parseIinf reads the item information box and its infe entries
// (ISO 14496-12 §8.11.6, HEIF requires infe version 2 or 3).
func (m *heifMeta) parseIinf(r *bytesReader, body []byte, bat int64) error {
	v, _ := r.fullBox()
	m.iinfVersion = v
	if v == 0 {
		r.u16()
	} else {
		r.u32()
	}
	if r.err != nil {
		return r.err
	}
	entries, err := childBoxes(m.f, body[r.off:], bat+int64(r.off))
	if err != nil {
		return err
	}
	for _, eb := range entries {
		if eb.typ != "infe" {
			m.otherIinf++
			continue
		}
		eat := bat + int64(r.off) + eb.body
		er := newBytesReader(m.f, "infe", body[int64(r.off)+eb.body:int64(r.off)+eb.end], eat)
		v, flags := er.fullBox()
		it := &heifItem{hidden: flags&1 != 0}
		switch v {
		case 2:
			it.id = uint32(er.u16())
		case 3:
			it.id = er.u32()
		default:
			return heifUnsupported(m.f, "HEIF with item info entries of version %d", v)
		}
		prot := er.u16()
		it.typ = string(er.take(4))
		it.name = er.cstring()
		switch it.typ {
		case "mime":
			it.contentType = er.cstring()
			if er.left() > 0 {
				it.encoding = er.cstring()
			}
		case "uri ":
			it.contentType = er.cstring()
		}
		if er.err != nil {
			return er.err
		}
		if prot != 0 {
			return heifUnsupported(m.f, "HEIF with encrypted items")
		}
		if m.byID[it.id] != nil {
			return m.errorf(eat, "item %d declared twice", it.id)
		}
		if len(m.items) >= maxHEIFItems {
			return m.errorf(eat, "more than %d items", maxHEIFItems)
		}
		m.byID[it.id] = it
		m.items = append(m.items, it)
	}
	return nil
}

// parseIprp reads the item properties (HEIF §9.3): the property boxes of
// ipco, indexed from 1, and the associations of ipma.
func (m *heifMeta) parseIprp(body []byte, bat int64) error {
	boxes, err := childBoxes(m.f, body, bat)
	if err != nil {
		return err
	}
	for _, b := range boxes {
		p := body[b.body:b.end]
		switch {
		case b.typ == "ipco" && m.props == nil:
			props, err := childBoxes(m.f, p, bat+b.body)
			if err != nil {
				return err
			}
			m.props = make([]heifProp, 0, len(props))
			for _, pb := range props {
				m.props = append(m.props, heifProp{typ: pb.typ, raw: p[pb.start:pb.end], body: p[pb.body:pb.end]})
			}
		case b.typ == "ipma":
			r := newBytesReader(m.f, "ipma", p, bat+b.body)
			ip := heifIPMA{}
			ip.version, ip.flags = r.fullBox()
			idSize, assocSize := 2, 1
			if ip.version >= 1 {
				idSize = 4
			}
			if ip.flags&1 != 0 {
				assocSize = 2
			}
			n := uint64(r.u32())
			if !r.count(n, idSize+1) {
				return r.err
			}
			for range n {
				a := heifAssoc{id: uint32(r.uint(idSize))}
				k := uint64(r.u8())
				if !r.count(k, assocSize) {
					return r.err
				}
				for range k {
					if assocSize == 2 {
						a.props = append(a.props, r.u16())
					} else {
						x := uint16(r.u8())
						a.props = append(a.props, x&0x80<<8|x&0x7F)
					}
				}
				ip.entries = append(ip.entries, a)
			}
			if r.err != nil {
				return r.err
			}
			m.ipmas = append(m.ipmas, ip)
		default:
			m.otherIprp = append(m.otherIprp, b.typ)
		}
	}
	return nil
}

// parseDinf reads the data references (ISO 14496-12 §8.7.2): an item whose
// data_reference_index names one that is not self-contained lives in
// another file.
func (m *heifMeta) parseDinf(body []byte, bat int64) error {
	m.hasDinf = true
	boxes, err := childBoxes(m.f, body, bat)
	if err != nil {
		return err
	}
	for _, b := range boxes {
		if b.typ != "dref" {
			continue
		}
		p := body[b.body:b.end]
		r := newBytesReader(m.f, "dref", p, bat+b.body)
		r.fullBox()
		r.u32()
		if r.err != nil {
			return r.err
		}
		entries, err := childBoxes(m.f, p[8:], bat+b.body+8)
		if err != nil {
			return err
		}
		for _, e := range entries {
			self := false
			if (e.typ == "url " || e.typ == "urn ") && e.bodyLen() >= 4 {
				self = p[8+e.body+3]&1 != 0
			}
			m.dref = append(m.dref, self)
		}
	}
	return nil
}

// checkOverlaps refuses extents that share bytes, within the file or within
// idat: removing one item's bytes would then damage another's, and which
// one owns them cannot be told.
func (m *heifMeta) checkOverlaps() error {
	type owned struct {
		heifExtent
		id uint32
	}
	for _, idat := range []bool{false, true} {
		var all []owned
		for _, id := range m.located {
			it := m.byID[id]
			if it.inIdat != idat {
				continue
			}
			for _, x := range it.extents {
				all = append(all, owned{x, id})
			}
		}
		slices.SortFunc(all, func(a, b owned) int { return cmp.Compare(a.off, b.off) })
		for i := 1; i < len(all); i++ {
			if all[i].off < all[i-1].off+all[i-1].n {
				return m.errorf(m.at, "items %d and %d share bytes at %d", all[i-1].id, all[i].id, all[i].off)
			}
		}
	}
	return nil
}

// propsOf returns the ipco properties associated with an item or group.
func (m *heifMeta) propsOf(id uint32) []uint16 {
	if m.assoc == nil {
		m.assoc = map[uint32][]uint16{}
		for _, ip := range m.ipmas {
			for _, a := range ip.entries {
				m.assoc[a.id] = append(m.assoc[a.id], a.props...)
			}
		}
	}
	return m.assoc[id]
}

// size returns the image size of an item from its ispe property (HEIF
// §6.5.3, mandatory for every image item).
func (m *heifMeta) size(id uint32) (w, h int, ok bool) {
	for _, x := range m.propsOf(id) {
		i := int(x & 0x7FFF)
		if i == 0 || i > len(m.props) || m.props[i-1].typ != "ispe" {
			continue
		}
		if b := m.props[i-1].body; len(b) >= 12 {
			return int(binary.BigEndian.Uint32(b[4:])), int(binary.BigEndian.Uint32(b[8:])), true
		}
	}
	return 0, 0, false
}

// orientation returns the Exif orientation (1-8) equivalent to the irot
// and imir properties of an item (HEIF §6.5.10, §6.5.12), applied in the
// order the item lists them, as HEIF requires. irot turns anti-clockwise
// by 90° steps; imir axis 0 mirrors about the vertical axis (left and right
// swap), axis 1 about the horizontal one.
func (m *heifMeta) orientation(id uint32) int {
	// The transform so far: turn clockwise by cw quarter turns, then mirror
	// left-right if mirrored. Exif's eight orientations are exactly these.
	cw, mirrored := 0, false
	turn := func(q int) {
		if mirrored {
			q = -q // a mirror reverses the sense of later turns
		}
		cw = ((cw+q)%4 + 4) % 4
	}
	for _, x := range m.propsOf(id) {
		i := int(x & 0x7FFF)
		if i == 0 || i > len(m.props) {
			continue
		}
		b := m.props[i-1].body
		if len(b) < 1 {
			continue
		}
		switch m.props[i-1].typ {
		case "irot":
			turn(-int(b[0] & 3)) // anti-clockwise
		case "imir":
			if b[0]&1 == 1 { // top-bottom: a half turn, then left-right
				turn(2)
			}
			mirrored = !mirrored
		}
	}
	exif := [4][2]int{{1, 2}, {6, 5}, {3, 4}, {8, 7}}
	if mirrored {
		return exif[cw][1]
	}
	return exif[cw][0]
}

// heifFile is a parsed HEIF or AVIF file.
type heifFile struct {
	f       Format
	size    int64
	ftyp    bmffBox
	metaBox bmffBox
	meta    *heifMeta
	mdats   []bmffBox
	dropped []bmffBox // top-level boxes outside the allowlist
}

// parseHEIF reads the top-level boxes of a HEIF file and parses its meta.
// Only ftyp, meta and mdat are kept; a file with a movie box is an image
// sequence, which veil does not strip.
func parseHEIF(f Format, r io.ReaderAt, size int64) (*heifFile, error) {
	boxes, err := topBoxes(f, r, size)
	if err != nil {
		return nil, err
	}
	h := &heifFile{f: f, size: size}
	if len(boxes) == 0 || boxes[0].typ != "ftyp" {
		return nil, &FormatError{Format: f, Msg: "file does not start with an ftyp box"}
	}
	h.ftyp = boxes[0]
	if n := h.ftyp.bodyLen(); n < 8 || n > maxFtyp || n%4 != 0 {
		return nil, &FormatError{Format: f, Msg: fmt.Sprintf("malformed ftyp box of %d bytes", h.ftyp.end)}
	}
	hasMeta := false
	for _, b := range boxes[1:] {
		switch b.typ {
		case "moov":
			what := "HEIF image sequence (movie box)"
			if f == AVIF {
				what = "animated AVIF (movie box)"
			}
			return nil, heifUnsupported(f, "%s", what)
		case "ftyp":
			return nil, &FormatError{Format: f, Offset: b.start, Msg: "second ftyp box"}
		case "meta":
			if hasMeta {
				return nil, &FormatError{Format: f, Offset: b.start, Msg: "second meta box"}
			}
			hasMeta, h.metaBox = true, b
		case "mdat":
			h.mdats = append(h.mdats, b)
		case "mini":
			return nil, heifUnsupported(f, "HEIF in the compact form (mini box)")
		default:
			h.dropped = append(h.dropped, b)
		}
	}
	if !hasMeta {
		return nil, &FormatError{Format: f, Offset: size, Msg: "no meta box"}
	}
	if n := h.metaBox.bodyLen(); n > maxHEIFMeta {
		return nil, heifUnsupported(f, "HEIF whose meta box holds %d bytes (more than %d)", n, maxHEIFMeta)
	}
	p := make([]byte, h.metaBox.bodyLen())
	if _, err := r.ReadAt(p, h.metaBox.body); err != nil {
		return nil, formatErr(f, h.metaBox.body, err)
	}
	if h.meta, err = parseMeta(f, p, h.metaBox.body, size); err != nil {
		return nil, err
	}
	return h, nil
}

// unreferenced returns how many mdat bytes no item's extent covers. Both
// the mdat bodies and the extents are disjoint, so one sweep over the two
// sorted lists finds every overlap.
func (h *heifFile) unreferenced() int64 {
	var n int64
	for _, b := range h.mdats {
		n += b.bodyLen()
	}
	var ext []heifExtent
	for _, id := range h.meta.located {
		if it := h.meta.byID[id]; !it.inIdat {
			ext = append(ext, it.extents...)
		}
	}
	slices.SortFunc(ext, func(a, b heifExtent) int { return cmp.Compare(a.off, b.off) })
	for i, j := 0, 0; i < len(ext) && j < len(h.mdats); {
		x, b := ext[i], h.mdats[j]
		if lo, hi := max(x.off, b.body), min(x.off+x.n, b.end); hi > lo {
			n -= hi - lo
		}
		if x.off+x.n < b.end {
			i++
		} else {
			j++
		}
	}
	return n
}

// itemBytes returns an item's bytes, if it holds at most limit of them.
func (h *heifFile) itemBytes(r io.ReaderAt, it *heifItem, limit int64) ([]byte, bool, error) {
	var total int64
	for _, x := range it.extents {
		total += x.n
		if total > limit {
			return nil, false, nil
		}
	}
	var out []byte
	for _, x := range it.extents {
		if it.inIdat {
			out = append(out, h.meta.idat[x.off:x.off+x.n]...)
			continue
		}
		b := make([]byte, x.n)
		if _, err := r.ReadAt(b, x.off); err != nil {
			return nil, false, formatErr(h.f, x.off, err)
		}
		out = append(out, b...)
	}
	return out, true, nil
}
