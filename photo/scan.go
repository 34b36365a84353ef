package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Category groups identifying metadata by what it gives away.
type Category string

// The categories Scan reports.
const (
	CatGPS       Category = "gps"       // location
	CatDate      Category = "dates"     // when the photo was taken or edited
	CatDevice    Category = "device"    // make, model, serial numbers, software
	CatText      Category = "text"      // people and free text: artist, owner, comments, XMP, IPTC
	CatThumbnail Category = "thumbnail" // embedded thumbnails and preview images
	CatMakerNote Category = "makernote" // vendor-private blocks, often with serials
	CatTrailer   Category = "trailer"   // bytes after the end of the image
	CatOther     Category = "other"     // other metadata veil drops
)

// Categories lists every category in the order reports use.
var Categories = []Category{CatGPS, CatDate, CatDevice, CatText, CatThumbnail, CatMakerNote, CatTrailer, CatOther}

// Finding is one piece of metadata found in a file.
type Finding struct {
	Category Category `json:"category"`
	Source   string   `json:"source"`          // container part: "EXIF", "XMP", "PNG tEXt", "JPEG comment", ...
	Name     string   `json:"name"`            // tag or chunk name
	Value    string   `json:"value,omitempty"` // shortened value, when it is text or a number
}

// Report is what Scan found in one file.
type Report struct {
	Format      Format    `json:"-"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	Orientation int       `json:"orientation"`
	Findings    []Finding `json:"findings"`
}

// Clean reports whether the file carries no metadata that Strip would drop.
func (r *Report) Clean() bool { return len(r.Findings) == 0 }

// Count returns the number of findings in category c.
func (r *Report) Count(c Category) int {
	n := 0
	for _, f := range r.Findings {
		if f.Category == c {
			n++
		}
	}
	return n
}

func (r *Report) add(c Category, source, name, value string) {
	r.Findings = append(r.Findings, Finding{Category: c, Source: source, Name: name, Value: shorten(value)})
}

// shorten makes a value printable on one line and at most 64 characters.
func shorten(s string) string {
	s = strings.TrimRight(s, "\x00 ")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:61]) + "..."
	}
	return s
}

// Scan reads the photo in r (size bytes) and reports the identifying
// metadata it carries. It reads the file once, streaming, and never changes it.
func Scan(r io.ReaderAt, size int64) (*Report, error) {
	f, err := sniffAt(r, size)
	if err != nil {
		return nil, err
	}
	rep := &Report{Format: f, Orientation: 1}
	in := io.NewSectionReader(r, 0, size)
	switch f {
	case JPEG:
		err = scanJPEG(in, rep)
	case PNG:
		err = scanPNG(in, rep)
	case WebP:
		err = scanWebP(r, size, rep)
	case HEIF, AVIF:
		err = scanHEIF(f, r, size, rep)
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func scanJPEG(r io.Reader, rep *Report) error {
	j := newJPEGReader(r)
	defer j.close()
	if err := j.soi(); err != nil {
		return err
	}
	var frame jpegFrame
	exifSeen := false
	m, err := j.nextMarker()
	for {
		if err != nil {
			return err
		}
		switch {
		case m == mEOI:
			rep.Width, rep.Height = frame.width, frame.height
			n, err := io.Copy(io.Discard, j.br)
			if err != nil {
				return err
			}
			if n > 0 {
				rep.add(CatTrailer, "file", "data after end of image", fmt.Sprintf("%d bytes", n))
			}
			return nil
		case isRST(m) || m == mTEM:
			m, err = j.nextMarker()
			continue
		}
		n, err := j.segment(m)
		if err != nil {
			return err
		}
		if m == mSOS {
			if err := j.skip(n); err != nil {
				return err
			}
			m, err = j.scanData(nil)
			continue
		}
		p, err := j.payload(n)
		if err != nil {
			return err
		}
		switch {
		case isKeptTable(m):
			frame.parse(m, p)
		case isAPP(m) || m == mCOM:
			kind := classifyJPEG(m, p)
			switch kind {
			case segJFIF:
				if len(p) >= 14 && int(p[12])*int(p[13]) > 0 {
					rep.add(CatThumbnail, "JFIF", "thumbnail", fmt.Sprintf("%dx%d", p[12], p[13]))
				}
			case segJFXX:
				rep.add(CatThumbnail, "JFXX", "thumbnail", fmt.Sprintf("%d bytes", len(p)))
			case segExif:
				tiff := p[len(exifHeader):]
				if !exifSeen {
					rep.Orientation = exifOrientation(tiff)
				}
				exifSeen = true
				if !isMinimalTIFF(tiff) {
					scanExif(tiff, "EXIF", rep)
				}
			case segXMP:
				scanXMP(p[len(xmpID):], "XMP", rep)
			case segXMPExt:
				rep.add(CatText, "XMP", "extended XMP", fmt.Sprintf("%d bytes", len(p)))
			case segICC, segAdobe:
			case segMPF:
				rep.add(CatThumbnail, "MPF", "preview images", "")
			case segIPTC:
				rep.add(CatText, "IPTC", "Photoshop/IPTC block", fmt.Sprintf("%d bytes", len(p)))
			case segComment:
				rep.add(CatText, "JPEG comment", "COM", string(p))
			default:
				rep.add(CatOther, "JPEG", segName(m, kind), appID(p))
			}
		}
		m, err = j.nextMarker()
	}
}

// appID returns the printable identifier at the start of an APPn payload.
func appID(p []byte) string {
	if i := bytes.IndexByte(p, 0); i >= 0 && i < 40 {
		p = p[:i]
	} else if len(p) > 12 {
		p = p[:12]
	}
	return string(p)
}

func scanPNG(r io.Reader, rep *Report) error {
	p := newPNGReader(r)
	defer p.close()
	if err := p.signature(); err != nil {
		return err
	}
	exifSeen := false
	for {
		typ, n, raw, err := p.header()
		if err != nil {
			return err
		}
		switch {
		case typ == "IHDR" && n == 13:
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			rep.Width = int(binary.BigEndian.Uint32(d[0:4]))
			rep.Height = int(binary.BigEndian.Uint32(d[4:8]))
		case pngKept[typ]:
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
		case n <= maxMetaChunk && (typ == "eXIf" || typ == "tEXt" || typ == "iTXt" || typ == "zTXt"):
			d, err := p.data(raw, n)
			if err != nil {
				return err
			}
			if typ == "eXIf" {
				if !exifSeen {
					rep.Orientation = exifOrientation(d)
				}
				exifSeen = true
				if !isMinimalTIFF(d) {
					scanExif(d, "PNG eXIf", rep)
				}
				break
			}
			scanPNGText(typ, d, rep)
		case typ == "tIME":
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
			rep.add(CatDate, "PNG tIME", "last modification time", "")
		default:
			if err := p.copyChunk(nil, raw, n); err != nil {
				return err
			}
			rep.add(CatOther, "PNG", typ+" chunk", fmt.Sprintf("%d bytes", n))
		}
		if typ == "IEND" {
			n, err := io.Copy(io.Discard, p.br)
			if err != nil {
				return err
			}
			if n > 0 {
				rep.add(CatTrailer, "file", "data after IEND", fmt.Sprintf("%d bytes", n))
			}
			return nil
		}
	}
}

// scanPNGText reports a tEXt, zTXt or iTXt chunk by its keyword (PNG §11.3.4).
func scanPNGText(typ string, d []byte, rep *Report) {
	key, rest, _ := bytes.Cut(d, []byte{0})
	k := string(key)
	source := "PNG " + typ
	if k == "XML:com.adobe.xmp" {
		if typ == "iTXt" {
			// compression flag, method, language tag\0, translated keyword\0, text
			if len(rest) > 2 && rest[0] == 0 {
				if _, after, ok := bytes.Cut(rest[2:], []byte{0}); ok {
					if _, text, ok := bytes.Cut(after, []byte{0}); ok {
						scanXMP(text, "XMP", rep)
						return
					}
				}
			}
		}
		rep.add(CatText, "XMP", "XMP packet", fmt.Sprintf("%d bytes", len(d)))
		return
	}
	value := ""
	if typ == "tEXt" {
		value = string(rest)
	}
	switch strings.ToLower(k) {
	case "creation time", "date:create", "date:modify", "date:timestamp", "timestamp":
		rep.add(CatDate, source, k, value)
	case "software", "source", "make", "model":
		rep.add(CatDevice, source, k, value)
	case "raw profile type exif", "raw profile type app1":
		rep.add(CatText, source, k+" (embedded EXIF)", "")
	default:
		rep.add(CatText, source, k, value)
	}
}

func scanWebP(r io.ReaderAt, size int64, rep *Report) error {
	chunks, end, err := webpChunks(r, size)
	if err != nil {
		return err
	}
	exifSeen := false
	for _, c := range chunks {
		if rep.Width == 0 && (c.fourcc == "VP8X" || c.fourcc == "VP8 " || c.fourcc == "VP8L") {
			p, err := readChunk(r, webpChunk{off: c.off, size: min(c.size, 10)})
			if err != nil {
				return err
			}
			rep.Width, rep.Height, _ = webpSize(c.fourcc, p)
		}
		switch {
		case webpKept[c.fourcc]:
		case c.size > maxMetaChunk:
			rep.add(CatOther, "WebP", c.fourcc+" chunk", fmt.Sprintf("%d bytes", c.size))
		case c.fourcc == "EXIF":
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			tiff := webpTIFF(p)
			if !exifSeen && chunks[0].fourcc == "VP8X" {
				// Strip keeps the orientation only where VP8X can flag it.
				rep.Orientation = exifOrientation(tiff)
			}
			exifSeen = true
			if !isMinimalTIFF(tiff) {
				scanExif(tiff, "EXIF", rep)
			}
		case c.fourcc == "XMP ":
			p, err := readChunk(r, c)
			if err != nil {
				return err
			}
			scanXMP(p, "XMP", rep)
		default:
			rep.add(CatOther, "WebP", strings.TrimSpace(c.fourcc)+" chunk", fmt.Sprintf("%d bytes", c.size))
		}
	}
	if end < size {
		rep.add(CatTrailer, "file", "data after the RIFF data", fmt.Sprintf("%d bytes", size-end))
	}
	return nil
}

// scanHEIF reports what Strip would drop from a HEIF or AVIF file: the
// metadata items (Exif, XMP), thumbnails, text properties, item names and
// the boxes outside the allowlist. It refuses what Strip refuses.
func scanHEIF(f Format, r io.ReaderAt, size int64, rep *Report) error {
	h, p, err := parseAndPlan(f, r, size)
	if err != nil {
		return err
	}
	m := h.meta
	rep.Width, rep.Height, _ = m.size(m.primary)
	for _, b := range h.dropped {
		rep.add(CatOther, "HEIF", strings.TrimSpace(b.typ)+" box", fmt.Sprintf("%d bytes", b.end-b.start))
	}
	for _, t := range m.other {
		rep.add(CatOther, "HEIF", strings.TrimSpace(t)+" box in meta", "")
	}
	for _, t := range m.otherIprp {
		rep.add(CatOther, "HEIF", strings.TrimSpace(t)+" box in iprp", "")
	}
	if m.otherIinf > 0 {
		rep.add(CatOther, "HEIF", "boxes in iinf that are not infe", fmt.Sprintf("%d", m.otherIinf))
	}
	if m.handlerName != "" {
		rep.add(CatOther, "HEIF", "handler name", m.handlerName)
	}
	for _, it := range m.items {
		why, dropped := p.drop[it.id]
		if !dropped {
			if it.name != "" {
				rep.add(CatOther, "HEIF", "item name", it.name)
			}
			continue
		}
		switch {
		case why == "thumbnail":
			w, h, _ := m.size(it.id)
			rep.add(CatThumbnail, "HEIF", "thumbnail image", fmt.Sprintf("%dx%d", w, h))
		case it.typ == "Exif" || it.typ == "mime":
			b, ok, err := h.itemBytes(r, it, maxMetaChunk)
			if err != nil {
				return err
			}
			scanHEIFMetadata(it, b, ok, rep)
		case it.typ == "uri ":
			rep.add(CatOther, "HEIF", "URI item", it.contentType)
		default:
			rep.add(CatOther, "HEIF", why, it.typ)
		}
	}
	for _, pr := range m.props {
		if clean, _ := propClean(pr); clean {
			continue
		}
		switch pr.typ {
		case "udes":
			rep.add(CatText, "HEIF", "user description property", string(bytes.ReplaceAll(pr.body[min(4, len(pr.body)):], []byte{0}, []byte{' '})))
		case "altt":
			rep.add(CatText, "HEIF", "alternative text property", string(bytes.ReplaceAll(pr.body[min(4, len(pr.body)):], []byte{0}, []byte{' '})))
		case "crtt":
			rep.add(CatDate, "HEIF", "creation time property", "")
		case "mdft":
			rep.add(CatDate, "HEIF", "modification time property", "")
		default:
			rep.add(CatOther, "HEIF", strings.TrimSpace(pr.typ)+" property", fmt.Sprintf("%d bytes", len(pr.raw)))
		}
	}
	for _, g := range m.groups {
		if p.dropGroups[g.id] {
			rep.add(CatOther, "HEIF", strings.TrimSpace(g.typ)+" entity group", "")
		}
	}
	if n := h.unreferenced(); n > 0 {
		rep.add(CatOther, "HEIF", "unreferenced data in mdat", fmt.Sprintf("%d bytes", n))
	}
	return nil
}

// scanHEIFMetadata reports an Exif or MIME item. An Exif item starts with
// the offset of the TIFF header from the end of that field (HEIF Annex A.2.1);
// a MIME item holds XMP or other text, possibly compressed.
func scanHEIFMetadata(it *heifItem, b []byte, read bool, rep *Report) {
	switch {
	case !read:
		rep.add(CatOther, "HEIF", it.typ+" item (too large to read)", "")
	case it.typ == "Exif":
		if len(b) < 4 || uint64(binary.BigEndian.Uint32(b)) > uint64(len(b)-4) {
			rep.add(CatOther, "EXIF", "Exif block (unreadable)", fmt.Sprintf("%d bytes", len(b)))
			return
		}
		scanExif(b[4+binary.BigEndian.Uint32(b):], "EXIF", rep)
	case isXMPType(it.contentType) && it.encoding == "":
		scanXMP(b, "XMP", rep)
	case isXMPType(it.contentType):
		rep.add(CatText, "XMP", "XMP packet ("+it.encoding+")", fmt.Sprintf("%d bytes", len(b)))
	default:
		rep.add(CatText, "HEIF", "MIME item "+it.contentType, fmt.Sprintf("%d bytes", len(b)))
	}
}

// xmpMarkers maps property names found in XMP packets to what they reveal.
// XMP is free-form RDF, so veil looks for the properties that matter rather
// than parsing every schema; the packet as a whole is always reported.
var xmpMarkers = []struct {
	needle string
	cat    Category
}{
	{"GPSLatitude", CatGPS}, {"GPSLongitude", CatGPS}, {"LocationShown", CatGPS}, {"LocationCreated", CatGPS},
	{"CreateDate", CatDate}, {"DateTimeOriginal", CatDate}, {"ModifyDate", CatDate}, {"DateCreated", CatDate}, {"MetadataDate", CatDate},
	{"SerialNumber", CatDevice}, {"tiff:Make", CatDevice}, {"tiff:Model", CatDevice}, {"CreatorTool", CatDevice}, {"LensModel", CatDevice},
	{"dc:creator", CatText}, {"dc:description", CatText}, {"dc:title", CatText}, {"dc:subject", CatText}, {"PersonInImage", CatText},
	{"dc:rights", CatText}, {"photoshop:", CatText}, {"Iptc4xmp", CatText}, {"mwg-rs:", CatText}, {"History", CatText},
}

func scanXMP(p []byte, source string, rep *Report) {
	rep.add(CatText, source, "XMP packet", fmt.Sprintf("%d bytes", len(p)))
	for _, m := range xmpMarkers {
		if bytes.Contains(p, []byte(m.needle)) {
			rep.add(m.cat, source, m.needle, "")
		}
	}
}
