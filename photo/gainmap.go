package photo

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
)

// HDR gain maps in JPEG. Ultra HDR (Android 14+), Adobe's gain map JPEGs
// and Apple's HDR photos store a second JPEG after the primary image's EOI:
// a gain map that turns the SDR image into its HDR rendition. The primary's
// MPF segment (CIPA DC-007) lists both images by size and offset, and the
// gain map's XMP holds the parameters: the hdrgm namespace (Adobe gain map
// specification 1.0, which Ultra HDR uses) or Apple's HDRGainMap namespace
// with the auxiliary image type, or ISO 21496-1 binary metadata
// (gainmap_iso.go). Strip keeps such a gain map when it can make it clean:
// the gain map image keeps only the segments a JPEG keeps plus an XMP
// packet that veil writes afresh from an allowlist of numeric properties
// and a well-formed ISO 21496-1 segment, and the MPF segment is rewritten
// for the new sizes. Anything else about it, and every other secondary
// image, is dropped as before.

const (
	nsHDRGM      = "http://ns.adobe.com/hdr-gain-map/1.0/"
	nsAppleGM    = "http://ns.apple.com/HDRGainMap/1.0/"
	nsApplePDI   = "http://ns.apple.com/pixeldatainfo/1.0/"
	appleGainAux = "urn:com:apple:photo:2020:aux:hdrgainmap"
	maxGainMap   = 16 << 20 // bytes of gain map image veil holds in memory
)

// gainMapProps lists the XMP properties kept, by namespace: numbers and
// booleans that say how to apply the gain map, nothing that identifies.
var gainMapProps = map[string][]string{
	nsHDRGM: {"Version", "BaseRenditionIsHDR", "GainMapMin", "GainMapMax", "Gamma",
		"OffsetSDR", "OffsetHDR", "HDRCapacityMin", "HDRCapacityMax"},
	nsAppleGM:  {"HDRGainMapVersion", "HDRGainMapHeadroom"},
	nsApplePDI: {"AuxiliaryImageType", "NativeFormat", "StoredFormat"},
}

// gainMapValue is what a kept property's value may be.
var gainMapValue = regexp.MustCompile(`^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|True|False|` + regexp.QuoteMeta(appleGainAux) + `)$`)

// xmpProp is one kept property: one value, or the values of an rdf:Seq.
type xmpProp struct {
	ns, name string
	vals     []string
	seq      bool
}

// readGainMapXMP returns the allowlisted properties of a gain map's XMP
// packet and whether it describes a gain map (hdrgm:Version, or Apple's
// auxiliary type). A value outside gainMapValue makes the packet unusable.
func readGainMapXMP(packet []byte) ([]xmpProp, bool) {
	d := xml.NewDecoder(bytes.NewReader(packet))
	d.Strict = true
	var props []xmpProp
	var cur *xmpProp // the element property being read
	kept := func(ns, name string) bool {
		for _, n := range gainMapProps[ns] {
			if n == name {
				return true
			}
		}
		return false
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur != nil {
				if t.Name.Local == "Seq" {
					cur.seq = true
				}
				continue
			}
			if kept(t.Name.Space, t.Name.Local) {
				props = append(props, xmpProp{ns: t.Name.Space, name: t.Name.Local})
				cur = &props[len(props)-1]
				continue
			}
			for _, a := range t.Attr {
				if kept(a.Name.Space, a.Name.Local) {
					props = append(props, xmpProp{ns: a.Name.Space, name: a.Name.Local, vals: []string{a.Value}})
				}
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); cur != nil && s != "" {
				cur.vals = append(cur.vals, s)
			}
		case xml.EndElement:
			if cur != nil && t.Name.Space == cur.ns && t.Name.Local == cur.name {
				cur = nil
			}
		}
	}
	isGainMap := false
	for _, p := range props {
		if len(p.vals) == 0 || len(p.vals) > 3 || !p.seq && len(p.vals) > 1 {
			return nil, false
		}
		for _, v := range p.vals {
			if !gainMapValue.MatchString(v) {
				return nil, false
			}
		}
		isGainMap = isGainMap || p.ns == nsHDRGM && p.name == "Version" ||
			p.ns == nsApplePDI && p.name == "AuxiliaryImageType" && p.vals[0] == appleGainAux
	}
	return props, isGainMap
}

// gainMapXMP writes the XMP payload (APP1, with its identifier) that veil
// keeps in a gain map image: the properties, in the order given, and
// nothing else.
func gainMapXMP(props []xmpProp) []byte {
	var b strings.Builder
	b.WriteString(xmpID)
	b.WriteString(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""`)
	b.WriteString(` xmlns:hdrgm="` + nsHDRGM + `" xmlns:HDRGainMap="` + nsAppleGM + `" xmlns:apdi="` + nsApplePDI + `">`)
	prefix := map[string]string{nsHDRGM: "hdrgm", nsAppleGM: "HDRGainMap", nsApplePDI: "apdi"}
	for _, p := range props {
		name := prefix[p.ns] + ":" + p.name
		b.WriteString("<" + name + ">")
		if p.seq {
			b.WriteString("<rdf:Seq>")
			for _, v := range p.vals {
				b.WriteString("<rdf:li>" + v + "</rdf:li>")
			}
			b.WriteString("</rdf:Seq>")
		} else {
			b.WriteString(p.vals[0])
		}
		b.WriteString("</" + name + ">")
	}
	b.WriteString(`</rdf:Description></rdf:RDF></x:xmpmeta>`)
	return []byte(b.String())
}

// primaryGainMapXMP is the XMP payload veil keeps in the primary image of
// an hdrgm gain-map JPEG: only hdrgm:Version, by which readers know to look
// for the gain map (Adobe gain map specification §"Primary image").
var primaryGainMapXMP = []byte(xmpID + `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:hdrgm="` + nsHDRGM + `"><hdrgm:Version>1.0</hdrgm:Version></rdf:Description></rdf:RDF></x:xmpmeta>`)

// mpfEntries reads the MP entries of an MPF payload (CIPA DC-007 §5.2.3):
// attribute, size and offset (from the start of the MPF TIFF header) of
// each image.
func mpfEntries(p []byte) (attr, size, off []uint32, ok bool) {
	tiff, found := bytes.CutPrefix(p, []byte(mpfID))
	bo, okOrder := tiffOrder(tiff)
	if !found || !okOrder {
		return nil, nil, nil, false
	}
	ifd := int64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return nil, nil, nil, false
	}
	n := int64(bo.Uint16(tiff[ifd:]))
	for i := int64(0); i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			return nil, nil, nil, false
		}
		if bo.Uint16(tiff[e:]) != 0xB002 { // MPEntry
			continue
		}
		count, at := int64(bo.Uint32(tiff[e+4:])), int64(bo.Uint32(tiff[e+8:]))
		if count%16 != 0 || count == 0 || count > 16*8 || at+count > int64(len(tiff)) {
			return nil, nil, nil, false
		}
		for k := at; k < at+count; k += 16 {
			attr = append(attr, bo.Uint32(tiff[k:]))
			size = append(size, bo.Uint32(tiff[k+4:]))
			off = append(off, bo.Uint32(tiff[k+8:]))
		}
		return attr, size, off, true
	}
	return nil, nil, nil, false
}

// buildMPF writes an MPF payload for a primary image of primaryLen bytes
// whose MPF TIFF header is at base, followed by a gain map of gainLen
// bytes. The attributes are the input's, which are image types, not
// metadata.
func buildMPF(attr [2]uint32, primaryLen, base, gainLen int64) []byte {
	bo := binary.BigEndian
	b := []byte(mpfID + "MM\x00*\x00\x00\x00\x08")
	b = bo.AppendUint16(b, 3)
	b = append(b, 0xB0, 0x00, 0, 7, 0, 0, 0, 4, '0', '1', '0', '0') // MPFVersion
	b = append(b, 0xB0, 0x01, 0, 4, 0, 0, 0, 1)                     // NumberOfImages
	b = bo.AppendUint32(b, 2)
	b = append(b, 0xB0, 0x02, 0, 7, 0, 0, 0, 32) // MPEntry, two entries
	b = bo.AppendUint32(b, 8+2+3*12+4)
	b = bo.AppendUint32(b, 0) // no next IFD
	b = bo.AppendUint32(b, attr[0])
	b = bo.AppendUint32(b, uint32(primaryLen))
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, attr[1])
	b = bo.AppendUint32(b, uint32(gainLen))
	b = bo.AppendUint32(b, uint32(primaryLen-base))
	b = bo.AppendUint32(b, 0)
	return b
}

// gainMapStrip tells stripJPEG how to treat one image of a gain-map JPEG.
type gainMapStrip struct {
	// isGainMap: this image is the gain map. Its XMP is rewritten from the
	// allowlist, its Exif dropped; foundXMP reports a gain-map XMP and
	// foundISO well-formed ISO 21496-1 metadata, either of which makes the
	// gain map usable.
	isGainMap bool
	foundXMP  bool
	foundISO  bool
	// primaryOf, on the primary image: the gain map kept after it. Its MPF
	// segment is rewritten, and an hdrgm primary keeps hdrgm:Version.
	primaryOf *gainMapPlan
	// end is set to where the image ended in its input.
	end int64
}

// xmp returns what replaces the image's first XMP segment, if anything.
func (g *gainMapStrip) xmp(packet []byte) ([]byte, bool) {
	switch {
	case g.isGainMap:
		props, ok := readGainMapXMP(packet)
		if !ok {
			return nil, false
		}
		g.foundXMP = true
		return gainMapXMP(props), true
	case g.primaryOf != nil && g.primaryOf.hdrgm:
		return primaryGainMapXMP, true
	}
	return nil, false
}

// gainMapPlan is a gain map Strip keeps after the primary image.
type gainMapPlan struct {
	attr       [2]uint32 // the MP entry attributes of the primary and the gain map
	hdrgm      bool      // the primary's XMP says hdrgm:Version
	start      int64     // where the gain map starts in the input
	inLen      int64     // and its length there
	primaryLen int64     // the stripped primary's length
	out        []byte    // the stripped gain map image
}

// jpegHeaderMPF hops over a JPEG's header segments up to the first scan,
// reading only their markers and lengths, and returns the MPF payload, the
// file offset of its TIFF header and the XMP payloads' extents. Most JPEGs
// have no MPF: this costs them a few small reads. A header that does not
// parse gives nothing, and the gain map is dropped as before.
func jpegHeaderMPF(r io.ReaderAt, size int64) (mpf []byte, base int64, xmps [][2]int64) {
	var h [4 + len(xmpID)]byte
	for off, hops := int64(2), 0; off+4 <= size && hops < 4096; hops++ {
		n, _ := r.ReadAt(h[:], off)
		if n < 4 || h[0] != 0xFF {
			return nil, 0, nil
		}
		m := h[1]
		switch {
		case m == 0xFF:
			off++
			continue
		case m == mSOS || m == mEOI:
			return mpf, base, xmps
		case isRST(m) || m == mTEM:
			off += 2
			continue
		}
		l := int64(binary.BigEndian.Uint16(h[2:]))
		if l < 2 {
			return nil, 0, nil
		}
		p := h[4:n]
		switch {
		case m == mAPP2 && bytes.HasPrefix(p, []byte(mpfID)) && mpf == nil:
			mpf = make([]byte, l-2)
			if _, err := r.ReadAt(mpf, off+4); err != nil {
				return nil, 0, nil
			}
			base = off + 4 + int64(len(mpfID))
		case m == mAPP1 && bytes.HasPrefix(p, []byte(xmpID)):
			xmps = append(xmps, [2]int64{off + 4 + int64(len(xmpID)), off + 2 + l})
		}
		off += 2 + l
	}
	return nil, 0, nil
}

// planGainMap looks in a JPEG's header for an MPF segment whose second
// image is a gain map, strips that gain map into memory and returns the
// plan, or nil when there is no gain map veil can keep clean.
func planGainMap(r io.ReaderAt, size int64) *gainMapPlan {
	mpf, base, xmps := jpegHeaderMPF(r, size)
	if mpf == nil {
		return nil
	}
	attr, sz, off, ok := mpfEntries(mpf)
	if !ok || len(attr) != 2 || off[0] != 0 {
		return nil
	}
	start, n := base+int64(off[1]), int64(sz[1])
	if n < 4 || n > maxGainMap || start <= base || start+n > size {
		return nil
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, start); err != nil {
		return nil
	}
	marked := false
	for _, id := range gainMapIDs {
		marked = marked || bytes.Contains(b[:min(len(b), 1<<16)], id)
	}
	if !marked {
		return nil // a preview image, dropped as before
	}
	var out bytes.Buffer
	g := &gainMapStrip{isGainMap: true}
	if err := stripJPEG(&out, bytes.NewReader(b), &Result{}, g); err != nil || !(g.foundXMP || g.foundISO) || g.end != n {
		return nil
	}
	hdrgm := false
	if len(xmps) > 0 && xmps[0][1]-xmps[0][0] <= maxMetaChunk {
		x := make([]byte, xmps[0][1]-xmps[0][0])
		if _, err := r.ReadAt(x, xmps[0][0]); err == nil {
			props, _ := readGainMapXMP(x)
			for _, pr := range props {
				hdrgm = hdrgm || pr.ns == nsHDRGM && pr.name == "Version"
			}
		}
	}
	return &gainMapPlan{attr: [2]uint32{attr[0], attr[1]}, hdrgm: hdrgm, start: start, inLen: n, out: out.Bytes()}
}

// stripJPEGFile strips a JPEG and keeps its HDR gain map when it can be
// made clean. The MPF segment near the start must give the stripped
// primary's length, so a first pass measures it.
func stripJPEGFile(w io.Writer, r io.ReaderAt, size int64, res *Result) error {
	plan := planGainMap(r, size)
	if plan == nil {
		return stripJPEG(w, io.NewSectionReader(r, 0, size), res, nil)
	}
	measure := &countWriter{w: io.Discard}
	g := &gainMapStrip{primaryOf: plan}
	if err := stripJPEG(measure, io.NewSectionReader(r, 0, size), &Result{}, g); err != nil || g.end != plan.start {
		return stripJPEG(w, io.NewSectionReader(r, 0, size), res, nil)
	}
	plan.primaryLen = measure.n
	if err := stripJPEG(w, io.NewSectionReader(r, 0, size), res, g); err != nil {
		return err
	}
	if _, err := w.Write(plan.out); err != nil {
		return err
	}
	res.GainMap = true
	return nil
}
