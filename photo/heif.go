package photo

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"strings"
)

// HEIF (ISO/IEC 23008-12) and AVIF, which is HEIF with AV1-coded items. A
// still HEIF file is an ISO BMFF file whose 'meta' box lists items (coded
// images, derived images such as grids, and metadata such as Exif and XMP),
// where their bytes are ('iloc'), how they relate ('iref') and their
// properties ('iprp'); the bytes are in 'mdat', or in 'idat' inside 'meta'.
//
// Strip keeps the image items and rewrites the container around them: the
// metadata items and thumbnails are removed from every table and their bytes
// from the file, and a new mdat holds the kept items' bytes unchanged.

// maxHEIFMeta bounds the meta box veil reads into memory. An iPhone's is
// tens of kilobytes, even with a few hundred grid tiles.
const maxHEIFMeta = 8 << 20

// maxHEIFItems bounds how many items one file may declare.
const maxHEIFItems = 1 << 16

// maxFtyp bounds the ftyp box: a few brands.
const maxFtyp = 4096

// heifImageTypes lists the item types that hold or derive an image (HEIF
// §6.4, §6.6, AVIF §2.1, ISO 21496-1 'tmap'); only these are kept. JPEG
// ('jpeg') and JPEG 2000 ('j2k1') items are not among them although they are
// images: their codestreams carry metadata of their own (APPn segments with
// Exif, COM text) that would be copied byte for byte. Such an item is
// dropped, and a file whose primary image is one is refused.
var heifImageTypes = map[string]bool{
	"hvc1": true, "hvt1": true, "lhv1": true, "av01": true, "avc1": true,
	"vvc1": true, "unci": true, "evc1": true,
	"grid": true, "iden": true, "iovl": true, "tmap": true, "mski": true,
}

// heifPropsKept lists the item properties kept byte for byte: decoder
// configurations, geometry, display transforms (irot, imir, clap), colour
// (colr with its ICC profile or nclx, HDR metadata) and auxiliary types.
var heifPropsKept = map[string]bool{
	"hvcC": true, "lhvC": true, "av1C": true, "avcC": true, "vvcC": true, "evcC": true,
	"j2kH": true, "jpgC": true, "uncC": true, "cmpd": true, "cmpC": true, "icef": true,
	"cpal": true, "splz": true, "sbpm": true, "snuc": true, "cloc": true, "fpat": true,
	"ispe": true, "pixi": true, "pasp": true, "clap": true, "irot": true, "imir": true,
	"iscl": true, "rloc": true, "lsel": true, "a1op": true, "a1lx": true, "oinf": true,
	"tols": true, "colr": true, "clli": true, "mdcv": true, "cclv": true, "amve": true,
	"reve": true, "ndwt": true, "auxC": true,
}

// heifPropsBlank gives, for each property that can hold free text or a
// time, the body it is rewritten to: the same box type with empty strings or
// a zero time, so that ipma's property indexes stay valid.
var heifPropsBlank = map[string][]byte{
	"udes": {0, 0, 0, 0, 0, 0, 0, 0},             // user description: lang, name, description, tags
	"altt": {0, 0, 0, 0, 0, 0},                   // accessibility text: text, language
	"crtt": {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // creation time
	"mdft": {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // modification time
}

// heifGroupsKept lists the entity groups kept (HEIF §6.8): alternatives
// (an HDR rendition beside the SDR one), stereo pairs, bursts and the like.
var heifGroupsKept = map[string]bool{
	"altr": true, "ster": true, "eqiv": true, "brst": true, "pymd": true,
	"slid": true, "tsyn": true, "iaug": true, "favc": true, "fobr": true,
	"wbbr": true, "dobr": true, "aebr": true, "afbr": true, "prgr": true,
}

type heifExtent struct{ off, n int64 }

// heifItem is one item, from its infe and iloc entries.
type heifItem struct {
	id          uint32
	typ         string
	hidden      bool
	name        string
	contentType string // of a 'mime' item, or the URI type of a 'uri ' item
	encoding    string // content encoding of a 'mime' item
	located     bool   // has an iloc entry
	inIdat      bool   // construction method 1: extents are offsets into idat
	dataRef     uint16 // data_reference_index
	extents     []heifExtent
}

// heifRef is one SingleItemTypeReferenceBox of iref (ISO 14496-12 §8.11.12).
type heifRef struct {
	typ  string
	from uint32
	to   []uint32
}

// heifAssoc lists the properties of one item or group: each is the 1-based
// index into ipco, with bit 15 set when the property is essential.
type heifAssoc struct {
	id    uint32
	props []uint16
}

type heifIPMA struct {
	version uint8
	flags   uint32
	entries []heifAssoc
}

type heifProp struct {
	typ  string
	raw  []byte // the whole box
	body []byte
}

type heifGroup struct {
	typ      string
	id       uint32
	entities []uint32
	raw      []byte
}

// heifMeta is a parsed meta box.
type heifMeta struct {
	f           Format
	at          int64 // file offset of the meta body, for errors
	handler     string
	handlerName string
	hasDinf     bool
	dref        []bool // per data reference: self-contained (this file)
	primary     uint32
	hasPrimary  bool
	iinfVersion uint8
	ilocVersion uint8
	irefVersion uint8
	items       []*heifItem // in iinf order
	byID        map[uint32]*heifItem
	located     []uint32 // item IDs in iloc order
	refs        []heifRef
	props       []heifProp
	ipmas       []heifIPMA
	hasIdat     bool
	idat        []byte
	groups      []heifGroup
	assoc       map[uint32][]uint16 // item → properties, built by propsOf
	other       []string            // meta children outside the allowlist
	otherIprp   []string
	otherIinf   int // iinf children that are not infe
	seen        map[string]bool
}

func (m *heifMeta) errorf(off int64, format string, args ...any) error {
	return &FormatError{Format: m.f, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func heifUnsupported(f Format, format string, args ...any) error {
	return &UnsupportedError{Format: f, Detail: fmt.Sprintf(format, args...)}
}

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

// checkHEIF re-parses a stripped HEIF from a stream: ftyp, meta and at
// most one mdat, in that order; a meta from which planning drops nothing
// and that holds no text; every mdat and idat byte belonging to exactly
// one item; and every item's bytes hashing as they did in the input.
func checkHEIF(f Format, r io.Reader, pf *proof) error {
	br := getReader(r)
	defer putReader(br)
	var off int64
	read := func(b []byte) error {
		n, err := io.ReadFull(br, b)
		off += int64(n)
		return formatErr(f, off, err)
	}
	header := func() (bmffBox, error) {
		var hdr [16]byte
		if err := read(hdr[:8]); err != nil {
			return bmffBox{}, err
		}
		if binary.BigEndian.Uint32(hdr[:]) == 1 {
			if err := read(hdr[8:]); err != nil {
				return bmffBox{}, err
			}
		}
		if binary.BigEndian.Uint32(hdr[:]) == 0 {
			return bmffBox{}, &FormatError{Format: f, Offset: off, Msg: "box of size 0 in output"}
		}
		start := off - 8
		if binary.BigEndian.Uint32(hdr[:]) == 1 {
			start -= 8
		}
		return boxHeader(f, hdr[:], start, math.MaxInt64)
	}
	body := func(b bmffBox, limit int64) ([]byte, error) {
		if b.bodyLen() > limit {
			return nil, &FormatError{Format: f, Offset: b.start, Msg: fmt.Sprintf("%q box too large", b.typ)}
		}
		p := make([]byte, b.bodyLen())
		return p, read(p)
	}

	b, err := header()
	if err != nil {
		return err
	}
	if b.typ != "ftyp" {
		return &FormatError{Format: f, Msg: "output does not start with ftyp"}
	}
	if _, err := body(b, maxFtyp); err != nil {
		return err
	}
	if b, err = header(); err != nil {
		return err
	}
	if b.typ != "meta" {
		return &FormatError{Format: f, Offset: b.start, Msg: fmt.Sprintf("%q box where meta belongs", b.typ)}
	}
	p, err := body(b, maxHEIFMeta)
	if err != nil {
		return err
	}
	m, err := parseMeta(f, p, b.body, math.MaxInt64)
	if err != nil {
		return err
	}
	if err := m.checkClean(); err != nil {
		return err
	}

	sums := map[uint32]*itemHash{}
	for _, it := range m.items {
		sums[it.id] = &itemHash{h: sha256.New()}
	}
	// idat must be exactly the kept items' bytes.
	var inFile []ownedExtent
	var idatUsed int64
	for _, id := range m.located {
		it := m.byID[id]
		for _, x := range it.extents {
			if it.inIdat {
				if x.off != idatUsed {
					return m.errorf(m.at, "idat holds bytes of no item, or out of order, at %d", x.off)
				}
				idatUsed += x.n
				sums[id].h.Write(m.idat[x.off : x.off+x.n])
				continue
			}
			inFile = append(inFile, ownedExtent{x, id})
		}
	}
	if idatUsed != int64(len(m.idat)) {
		return m.errorf(m.at, "idat holds %d bytes that no item uses", int64(len(m.idat))-idatUsed)
	}

	if len(inFile) > 0 {
		if b, err = header(); err != nil {
			return err
		}
		if b.typ != "mdat" {
			return &FormatError{Format: f, Offset: b.start, Msg: fmt.Sprintf("%q box where mdat belongs", b.typ)}
		}
		// The stripper lays items out one after another in iloc order, so
		// the extents must tile the mdat data exactly, in that order.
		pos := b.body
		buf := make([]byte, 32<<10)
		for _, x := range inFile {
			if x.off != pos {
				return &FormatError{Format: f, Offset: pos, Msg: fmt.Sprintf("item %d's extent at %d does not follow the previous one; mdat holds bytes of no item", x.id, x.off)}
			}
			if x.n > b.end-pos {
				return &FormatError{Format: f, Offset: pos, Msg: fmt.Sprintf("item %d's extent runs past mdat", x.id)}
			}
			n, err := io.CopyBuffer(sums[x.id].h, io.LimitReader(br, x.n), buf)
			if err == nil && n < x.n {
				err = io.ErrUnexpectedEOF
			}
			off += n
			if err != nil {
				return formatErr(f, off, err)
			}
			pos += x.n
		}
		if pos != b.end {
			return &FormatError{Format: f, Offset: pos, Msg: "mdat holds bytes of no item"}
		}
	}
	if n, _ := io.Copy(io.Discard, br); n > 0 {
		return &FormatError{Format: f, Offset: off, Msg: fmt.Sprintf("%d bytes after the last box", n)}
	}

	// Losslessness: the same items, each with the same bytes as the input.
	if m.primary != pf.primary {
		return m.errorf(m.at, "primary item is %d, was %d", m.primary, pf.primary)
	}
	if len(sums) != len(pf.items) {
		return m.errorf(m.at, "%d items kept, %d expected", len(sums), len(pf.items))
	}
	for id, s := range sums {
		want, ok := pf.items[id]
		if !ok {
			return m.errorf(m.at, "item %d was not expected", id)
		}
		if [sha256.Size]byte(s.h.Sum(nil)) != want {
			return m.errorf(m.at, "item %d: bytes differ from the input's", id)
		}
	}
	return nil
}

type ownedExtent struct {
	heifExtent
	id uint32
}

type itemHash struct{ h hash.Hash }

// checkClean verifies that a meta box is what Strip writes: nothing left
// to drop, no text in the handler, item names or properties.
func (m *heifMeta) checkClean() error {
	p, err := m.plan()
	if err != nil {
		return err
	}
	for id, why := range p.drop {
		return m.errorf(m.at, "item %d (%s) left in output", id, why)
	}
	for id := range p.dropGroups {
		return m.errorf(m.at, "group %d left in output", id)
	}
	switch {
	case len(m.other) > 0:
		return m.errorf(m.at, "%q box left in meta", m.other[0])
	case len(m.otherIprp) > 0 || m.otherIinf > 0:
		return m.errorf(m.at, "unexpected box left in iprp or iinf")
	case m.handlerName != "":
		return m.errorf(m.at, "handler name left in output")
	}
	for _, it := range m.items {
		if it.name != "" {
			return m.errorf(m.at, "item %d keeps its name", it.id)
		}
	}
	for i, pr := range m.props {
		if !bytes.Equal(p.props[i], pr.raw) {
			return m.errorf(m.at, "property %d (%q) left in output", i+1, pr.typ)
		}
	}
	for _, r := range m.refs {
		if r.typ == "thmb" {
			return m.errorf(m.at, "thumbnail reference left in output")
		}
	}
	return nil
}
