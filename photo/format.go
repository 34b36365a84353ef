// Package photo recognises image formats by their bytes, reports the
// identifying metadata a photo carries, and strips it losslessly: the image
// data is copied byte for byte and only the container is rewritten.
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Format is an image container format.
type Format int

// The formats Sniff recognises. JPEG, PNG, WebP, HEIF, AVIF and TIFF can be
// stripped; the others are recognised so that the refusal can name them.
const (
	Unknown Format = iota
	JPEG
	PNG
	WebP
	GIF
	TIFF
	HEIF // HEIC and other HEIF brands
	AVIF
	JPEGXL
	BMP
	RAW // camera raw formats that are not TIFF-shaped
	PSD
	PDF
	Video
)

var formatNames = [...]string{
	Unknown: "unknown",
	JPEG:    "jpeg",
	PNG:     "png",
	WebP:    "webp",
	GIF:     "gif",
	TIFF:    "tiff",
	HEIF:    "heic",
	AVIF:    "avif",
	JPEGXL:  "jxl",
	BMP:     "bmp",
	RAW:     "raw",
	PSD:     "psd",
	PDF:     "pdf",
	Video:   "video",
}

// String returns the short lower-case name of the format ("jpeg", "png", ...).
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// FormatByName returns the format whose String is name.
func FormatByName(name string) (Format, bool) {
	for f, n := range formatNames {
		if n == name && Format(f) != Unknown {
			return Format(f), true
		}
	}
	return Unknown, false
}

// Ext returns the file extension veil gives a stripped file of this format.
func (f Format) Ext() string {
	switch f {
	case JPEG:
		return ".jpg"
	case PNG:
		return ".png"
	case WebP:
		return ".webp"
	case HEIF:
		return ".heic"
	case AVIF:
		return ".avif"
	case TIFF:
		return ".tif"
	}
	return ""
}

// Strippable reports whether Strip supports the format.
func (f Format) Strippable() bool {
	return f == JPEG || f == PNG || f == WebP || f == HEIF || f == AVIF || f == TIFF
}

// StrippableFormats lists the formats Strip supports.
func StrippableFormats() []Format { return []Format{JPEG, PNG, WebP, HEIF, AVIF, TIFF} }

// strippableNames is how messages list the strippable formats.
const strippableNames = "JPEG, PNG, WebP, HEIC, AVIF and TIFF"

// SniffLen is how many leading bytes Sniff needs to recognise every format.
const SniffLen = 32

// ErrEmpty is returned for a file with no bytes at all.
var ErrEmpty = errors.New("empty file")

// ErrUnsupported is matched (errors.Is) by every UnsupportedError.
var ErrUnsupported = errors.New("unsupported format")

// UnsupportedError says that a file is in a format veil cannot strip.
type UnsupportedError struct {
	Format Format
	Detail string // what was recognised, e.g. "GIF", or what is unsupported, e.g. "animated AVIF"
}

func (e *UnsupportedError) Error() string {
	if e.Format == Unknown {
		return "not a " + strings.Replace(strippableNames, " and ", " or ", 1) + " image (unrecognised content)"
	}
	d := e.Detail
	if d == "" {
		d = e.Format.String()
	}
	if !e.Format.Strippable() {
		return fmt.Sprintf("%s is not supported yet; only %s can be stripped", d, strippableNames)
	}
	msg := fmt.Sprintf("%s is not supported yet", d)
	if e.Format == HEIF {
		// Image sequences are the HEIF files veil cannot strip; an iPhone
		// writes JPEGs instead with one setting.
		msg += " (export it as a still JPEG, or set the iPhone to Settings > Camera > Formats > Most Compatible)"
	}
	return msg
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Sniff recognises a format from the first bytes of a file (at least
// SniffLen of them when the file is that long), never from its name. It
// returns an *UnsupportedError for anything it cannot strip and ErrEmpty for
// an empty head.
func Sniff(head []byte) (Format, error) {
	f, detail := sniff(head)
	if f == Unknown && len(head) == 0 {
		return Unknown, ErrEmpty
	}
	if !f.Strippable() {
		return f, &UnsupportedError{Format: f, Detail: detail}
	}
	return f, nil
}

func sniff(b []byte) (Format, string) {
	has := func(off int, s string) bool {
		return len(b) >= off+len(s) && string(b[off:off+len(s)]) == s
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return JPEG, ""
	case has(0, "\x89PNG\r\n\x1a\n"):
		return PNG, ""
	case has(0, "RIFF") && has(8, "WEBP"):
		return WebP, ""
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return GIF, "GIF"
	case has(0, "II*\x00") && has(8, "CR"):
		return RAW, "Canon CR2 raw"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		// Strip tells TIFF-based camera raw (DNG, NEF, ARW) from a TIFF
		// image by its tags.
		return TIFF, ""
	case has(0, "II+\x00"), has(0, "MM\x00+"):
		return TIFF, "BigTIFF"
	case has(0, "IIRO"), has(0, "IIRS"), has(0, "MMOR"):
		return RAW, "Olympus ORF raw"
	case has(0, "IIU\x00"):
		return RAW, "Panasonic RW2 raw"
	case has(0, "FUJIFILMCCD-RAW"):
		return RAW, "Fujifilm RAF raw"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL \r\n\x87\n"):
		return JPEGXL, "JPEG XL"
	case has(0, "BM") && len(b) >= 14:
		return BMP, "BMP"
	case has(0, "8BPS"):
		return PSD, "Photoshop PSD"
	case has(0, "%PDF-"):
		return PDF, "PDF"
	case has(4, "ftyp"):
		return sniffFtyp(b)
	}
	return Unknown, ""
}

// sniffFtyp tells HEIF, AVIF, camera raw and video apart by the ISO BMFF
// major and compatible brands.
func sniffFtyp(b []byte) (Format, string) {
	if len(b) < 12 {
		return Unknown, ""
	}
	brands := b[8:]
	if n := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])); n >= 16 && n < len(b) {
		brands = b[8:n]
	}
	major := string(b[8:12])
	hasBrand := func(s string) bool {
		for i := 0; i+4 <= len(brands); i += 4 {
			if i == 4 { // the minor version, not a brand
				continue
			}
			if string(brands[i:i+4]) == s {
				return true
			}
		}
		return false
	}
	switch {
	case major == "crx ":
		return RAW, "Canon CR3 raw"
	case major == "avif", major == "avis":
		return AVIF, "AVIF"
	case major == "heic", major == "heix", major == "hevc", major == "hevx", major == "heim", major == "heis":
		return HEIF, fmt.Sprintf("HEIC (brand %s)", bytes.TrimSpace([]byte(major)))
	case major == "mif1", major == "msf1", major == "mif2", major == "mif3",
		major == "avci", major == "j2ki", major == "vvic", major == "jpeg",
		hasBrand("mif1"), hasBrand("mif2"):
		if hasBrand("avif") {
			return AVIF, "AVIF"
		}
		return HEIF, "HEIF"
	}
	if major == "qt  " {
		// What an iPhone writes beside each Live Photo: the still is the
		// HEIC or JPEG of the same name, and is all a clinic needs.
		return Video, "a QuickTime video (the motion part of an iPhone Live Photo is one; its still photo is the HEIC or JPEG of the same name)"
	}
	return Video, fmt.Sprintf("a video or ISO media file (brand %q)", strings.TrimSpace(major))
}
