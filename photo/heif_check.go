package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
)

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
