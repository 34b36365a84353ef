package photo

import (
	"bytes"
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
	Format Format `json:"-"`
	// Width and Height are the size as stored, before orientation.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Orientation is the Exif orientation (1-8) that Strip keeps and a
	// conforming reader applies: for HEIF and AVIF, the equivalent of the
	// irot and imir properties.
	Orientation int `json:"orientation"`
	// ExifOrientation is, for HEIF and AVIF only, the Orientation tag of the
	// Exif item (0 when none): what a non-conforming reader that honours
	// Exif rather than irot and imir shows. Strip drops the item.
	ExifOrientation int       `json:"exif_orientation,omitempty"`
	Findings        []Finding `json:"findings"`
}

// DisplaySize returns the size the photo displays at once its
// orientation is applied: Width and Height swapped for orientations 5-8.
func (r *Report) DisplaySize() (w, h int) {
	if r.Orientation >= 5 {
		return r.Height, r.Width
	}
	return r.Width, r.Height
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

// hasGainMap reports whether Scan found an HDR gain map after the image.
func (r *Report) hasGainMap() bool {
	for _, f := range r.Findings {
		if f.Category == CatTrailer && f.Name == gainMapFinding {
			return true
		}
	}
	return false
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
		if err == nil && rep.hasGainMap() && checkJPEG(io.NewSectionReader(r, 0, size)) == nil {
			// The MPF segment, XMP and gain map that Strip writes when it
			// keeps a gain map: nothing left to drop.
			rep.Findings = nil
		}
	case PNG:
		err = scanPNG(in, rep)
	case WebP:
		err = scanWebP(r, size, rep)
	case HEIF, AVIF:
		err = scanHEIF(f, r, size, rep)
	case TIFF:
		err = scanTIFF(r, size, rep)
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
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
