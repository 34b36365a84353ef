package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

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
	rep.Orientation = m.orientation(m.primary)
	for _, b := range h.dropped {
		if b.typ == "mpvd" {
			// Samsung's motion photo: the video after the still image.
			rep.add(CatTrailer, "HEIF", "motion-photo video (mpvd box)", fmt.Sprintf("%d bytes", b.end-b.start))
			continue
		}
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
			if it.typ == "Exif" && ok && rep.ExifOrientation == 0 {
				rep.ExifOrientation = heifExifOrientation(b)
			}
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
		if profile, ok := colrICC(pr); ok {
			scanICC(profile, rep)
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

// heifExifOrientation returns the Orientation tag of an Exif item, 0 when
// it has none. HEIF displays by irot and imir alone (HEIF §6.5.10, Note);
// readers that honour this Exif tag instead, or on top, show the photo
// turned wrongly, and Strip drops the item, so Scan says what it held.
func heifExifOrientation(b []byte) int {
	if len(b) < 4 || uint64(binary.BigEndian.Uint32(b)) > uint64(len(b)-4) {
		return 0
	}
	v, _ := exifOrientationTag(b[4+binary.BigEndian.Uint32(b):])
	return v
}
