package photo

import (
	"fmt"
	"io"
)

// scanTIFF reports the tags Strip drops from a TIFF, once per tag. It
// refuses what Strip refuses.
func scanTIFF(r io.ReaderAt, size int64, rep *Report) error {
	t, err := parseTIFF(r, size, true)
	if err != nil {
		return err
	}
	if err := t.checkJPEGData(r); err != nil {
		return err
	}
	rep.Width, rep.Height, rep.Orientation = t.geometry()
	seen := map[uint16]bool{}
	profiles := map[string]bool{}
	for _, p := range t.pages {
		for _, e := range p.entries {
			if e.tag == tagICC && !profiles[string(e.val)] {
				// Each page may have its own profile; each is reported once.
				profiles[string(e.val)] = true
				if e.typ != 1 && e.typ != 7 || e.val == nil {
					rep.add(CatOther, "ICC profile", "malformed profile (dropped)", fmt.Sprintf("TIFF type %d", e.typ))
				} else {
					scanICC(e.val, rep)
				}
			}
			if tiffKept[e.tag] || seen[e.tag] {
				continue
			}
			seen[e.tag] = true
			name, value := tiffTagName(e.tag), ""
			if e.typ == 2 {
				value = string(e.val)
			}
			switch e.tag {
			case tagXMP:
				if e.val != nil {
					scanXMP(e.val, "XMP", rep)
				} else {
					rep.add(CatText, "XMP", "XMP packet", fmt.Sprintf("%d bytes", e.size()))
				}
			case 271, 272, 305, 316, 50341:
				rep.add(CatDevice, "TIFF", name, value)
			case 306:
				rep.add(CatDate, "TIFF", name, value)
			case 34853:
				rep.add(CatGPS, "TIFF", name, "")
			case 269, 270, 285, 315, 333, 33432, 33723, 34377, 40091, 40092, 40093, 40094, 40095:
				rep.add(CatText, "TIFF", name, value)
			default:
				rep.add(CatOther, "TIFF", name, value)
			}
		}
	}
	return nil
}

// tiffTagName names the tags Scan and Strip report.
func tiffTagName(tag uint16) string {
	if n, ok := tiffTagNames[tag]; ok {
		return n
	}
	return fmt.Sprintf("TIFF tag %d", tag)
}

var tiffTagNames = map[uint16]string{
	269: "DocumentName", 270: "ImageDescription", 271: "Make", 272: "Model", 285: "PageName",
	286: "XPosition", 287: "YPosition", 297: "PageNumber", 305: "Software", 306: "DateTime",
	315: "Artist", 316: "HostComputer", 333: "InkNames", 700: "XMP", 33432: "Copyright",
	33723: "IPTC", 34377: "Photoshop", 34665: "Exif IFD", 34853: "GPS IFD", 37724: "ImageSourceData",
	50341: "PrintIM", 40091: "XPTitle", 40092: "XPComment", 40093: "XPAuthor", 40094: "XPKeywords", 40095: "XPSubject",
}
