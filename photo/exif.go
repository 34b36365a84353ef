package photo

import (
	"encoding/binary"
)

// exifHeader starts the payload of a JPEG APP1 Exif segment (Exif 2.32 §4.5.4).
const exifHeader = "Exif\x00\x00"

// tagOrientation is the TIFF/Exif Orientation tag (Exif 2.32 §4.6.4 A).
const tagOrientation = 0x0112

// exifOrientation reads the Orientation tag from IFD0 of a TIFF structure (the
// body of an Exif block, without the "Exif\0\0" header). It returns 1 (the
// default, upright) when the tag is absent, malformed or out of range.
func exifOrientation(tiff []byte) int {
	if v, ok := exifOrientationTag(tiff); ok {
		return v
	}
	return 1
}

// exifOrientationTag returns the Orientation tag of IFD0 and whether it is
// there and valid (1-8). Every offset is checked against len(tiff) before
// use.
func exifOrientationTag(tiff []byte) (int, bool) {
	bo, ok := tiffOrder(tiff)
	if !ok {
		return 0, false
	}
	ifd := int64(bo.Uint32(tiff[4:8]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 0, false
	}
	n := int64(bo.Uint16(tiff[ifd:]))
	for i := int64(0); i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			return 0, false
		}
		if bo.Uint16(tiff[e:]) != tagOrientation {
			continue
		}
		typ, count := bo.Uint16(tiff[e+2:]), bo.Uint32(tiff[e+4:])
		var v int
		switch {
		case typ == 3 && count >= 1: // SHORT, stored in the entry itself
			v = int(bo.Uint16(tiff[e+8:]))
		case typ == 4 && count >= 1: // LONG: seen from some software
			v = int(bo.Uint32(tiff[e+8:]))
		default:
			return 0, false
		}
		if v < 1 || v > 8 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// tiffOrder reads the byte order from a TIFF header (TIFF 6.0 §2) that is
// followed by at least the 4-byte offset of IFD0.
func tiffOrder(tiff []byte) (binary.ByteOrder, bool) {
	if len(tiff) < 8 {
		return nil, false
	}
	switch string(tiff[:4]) {
	case "II*\x00":
		return binary.LittleEndian, true
	case "MM\x00*":
		return binary.BigEndian, true
	}
	return nil, false
}

// minimalTIFF returns a TIFF structure holding nothing but IFD0 with one
// Orientation entry: what veil keeps of a photo's Exif, so that a rotated
// phone photo still displays upright.
func minimalTIFF(orientation int) []byte {
	b := []byte{
		'M', 'M', 0, 42, // big-endian TIFF header
		0, 0, 0, 8, // IFD0 at offset 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, // Orientation, SHORT, count 1
		0, byte(orientation), 0, 0, // value, padded to 4 bytes
		0, 0, 0, 0, // no next IFD (and so no thumbnail IFD1)
	}
	return b
}

// isMinimalTIFF reports whether tiff is exactly what minimalTIFF produces for
// some valid orientation other than 1.
func isMinimalTIFF(tiff []byte) bool {
	o := exifOrientation(tiff)
	if o == 1 {
		return false
	}
	want := minimalTIFF(o)
	return string(tiff) == string(want)
}
