package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/rwcarlsen/goexif/tiff"
)

// exifTag names a TIFF/Exif tag and says what it reveals.
type exifTag struct {
	name string
	cat  Category
}

// exifTags lists the tags of IFD0 and the Exif sub-IFD that identify a
// patient, a place, a time or a device (TIFF 6.0, Exif 2.32 §4.6). Every
// other tag is counted under CatOther: still dropped, but not identifying.
var exifTags = map[uint16]exifTag{
	0x010D: {"DocumentName", CatText},
	0x010E: {"ImageDescription", CatText},
	0x010F: {"Make", CatDevice},
	0x0110: {"Model", CatDevice},
	0x0131: {"Software", CatDevice},
	0x0132: {"DateTime", CatDate},
	0x013B: {"Artist", CatText},
	0x013C: {"HostComputer", CatDevice},
	0x8298: {"Copyright", CatText},
	0x927C: {"MakerNote", CatMakerNote},
	0x9286: {"UserComment", CatText},
	0x9003: {"DateTimeOriginal", CatDate},
	0x9004: {"DateTimeDigitized", CatDate},
	0x9010: {"OffsetTime", CatDate},
	0x9011: {"OffsetTimeOriginal", CatDate},
	0x9012: {"OffsetTimeDigitized", CatDate},
	0x9290: {"SubSecTime", CatDate},
	0x9291: {"SubSecTimeOriginal", CatDate},
	0x9292: {"SubSecTimeDigitized", CatDate},
	0xA420: {"ImageUniqueID", CatDevice},
	0xA430: {"CameraOwnerName", CatText},
	0xA431: {"BodySerialNumber", CatDevice},
	0xA432: {"LensSpecification", CatDevice},
	0xA433: {"LensMake", CatDevice},
	0xA434: {"LensModel", CatDevice},
	0xA435: {"LensSerialNumber", CatDevice},
	0xC4A5: {"PrintImageMatching", CatOther},
	0x9C9B: {"XPTitle", CatText},
	0x9C9C: {"XPComment", CatText},
	0x9C9D: {"XPAuthor", CatText},
	0x9C9E: {"XPKeywords", CatText},
	0x9C9F: {"XPSubject", CatText},
	0xC62F: {"CameraSerialNumber", CatDevice},
	0xA005: {"InteropIFD", CatOther},
	0x0112: {"Orientation", ""}, // kept: not identifying
}

// Pointers to sub-IFDs (Exif 2.32 §4.6.3).
const (
	tagExifIFD = 0x8769
	tagGPSIFD  = 0x8825
)

// maxIFDs bounds how many IFDs one Exif block may hold; real files have 5 or
// fewer. It keeps a hostile block with an IFD cycle or chain from running on.
const maxIFDs = 32

// scanExif reports the tags of a TIFF structure (the body of an Exif block).
// goexif decodes each IFD; veil walks the IFD chain itself, refusing cycles,
// because goexif's own chain walk only notices an IFD that points to itself.
func scanExif(data []byte, source string, rep *Report) {
	defer func() {
		// goexif has panicked on hostile input before; a scan must not.
		if recover() != nil {
			rep.add(CatOther, source, "Exif block (unreadable)", fmt.Sprintf("%d bytes", len(data)))
		}
	}()
	bo, ok := tiffOrder(data)
	if !ok {
		rep.add(CatOther, source, "Exif block (unreadable)", fmt.Sprintf("%d bytes", len(data)))
		return
	}
	visited := map[uint32]bool{}
	other := 0
	var walk func(off uint32, kind string)
	walk = func(off uint32, kind string) {
		if off < 8 || int64(off)+2 > int64(len(data)) || visited[off] || len(visited) >= maxIFDs {
			if off != 0 && visited[off] {
				rep.add(CatOther, source, "Exif block (IFD loop)", "")
			}
			return
		}
		visited[off] = true
		if !ifdSane(data, off, bo) {
			rep.add(CatOther, source, kind+" (malformed)", "")
			return
		}
		r := bytes.NewReader(data)
		r.Seek(int64(off), 0)
		dir, next, err := tiff.DecodeDir(r, bo)
		if err != nil || dir == nil {
			rep.add(CatOther, source, kind+" (unreadable)", "")
			return
		}
		for _, t := range dir.Tags {
			switch {
			case kind == "IFD1":
				// The thumbnail's own tags are reported as one finding below.
			case kind == "GPS":
				rep.add(CatGPS, source, gpsTagName(t.Id), tagValue(t))
			case t.Id == tagExifIFD || t.Id == tagGPSIFD:
				if v, err := t.Int64(0); err == nil && v > 0 && v < 1<<32 {
					k := "Exif"
					if t.Id == tagGPSIFD {
						k = "GPS"
					}
					walk(uint32(v), k)
				}
			default:
				if info, ok := exifTags[t.Id]; ok {
					if info.cat != "" && info.cat != CatOther {
						v := tagValue(t)
						if info.cat == CatMakerNote {
							v = fmt.Sprintf("%d bytes", len(t.Val))
						}
						rep.add(info.cat, source, info.name, v)
					} else if info.cat == CatOther {
						other++
					}
				} else {
					other++
				}
			}
		}
		if kind == "IFD1" {
			rep.add(CatThumbnail, source, "IFD1 thumbnail", "")
		}
		if kind == "IFD0" && next > 0 {
			walk(uint32(next), "IFD1")
		}
	}
	walk(bo.Uint32(data[4:8]), "IFD0")
	if other > 0 {
		rep.add(CatOther, source, "camera settings and other tags", fmt.Sprintf("%d tags", other))
	}
}

// tiffTypeSize is the size of one value of each TIFF field type (TIFF 6.0 §2).
var tiffTypeSize = [...]uint64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// ifdSane checks an IFD before goexif decodes it: every entry must lie within
// data, and so must every value. goexif sizes its value slices from the count
// field before checking it against the data (a count of 2^31 SHORTs
// overflows its length check and allocates 16 GB), so this must run first.
func ifdSane(data []byte, off uint32, bo binary.ByteOrder) bool {
	size := uint64(len(data))
	if uint64(off)+2 > size {
		return false
	}
	n := uint64(bo.Uint16(data[off:]))
	if uint64(off)+2+12*n+4 > size {
		return false
	}
	for i := uint64(0); i < n; i++ {
		e := uint64(off) + 2 + 12*i
		typ := uint64(bo.Uint16(data[e+2:]))
		count := uint64(bo.Uint32(data[e+4:]))
		if typ == 0 || typ >= uint64(len(tiffTypeSize)) {
			return false
		}
		l := tiffTypeSize[typ] * count
		if l > size {
			return false
		}
		if l > 4 && uint64(bo.Uint32(data[e+8:]))+l > size {
			return false
		}
	}
	return true
}

var gpsNames = map[uint16]string{
	0: "GPSVersionID", 1: "GPSLatitudeRef", 2: "GPSLatitude", 3: "GPSLongitudeRef", 4: "GPSLongitude",
	5: "GPSAltitudeRef", 6: "GPSAltitude", 7: "GPSTimeStamp", 8: "GPSSatellites", 0x1D: "GPSDateStamp",
	0x12: "GPSMapDatum", 0x1B: "GPSProcessingMethod", 0x1C: "GPSAreaInformation", 0x10: "GPSImgDirectionRef", 0x11: "GPSImgDirection",
}

func gpsTagName(id uint16) string {
	if n, ok := gpsNames[id]; ok {
		return n
	}
	return fmt.Sprintf("GPSTag0x%04X", id)
}

// tagValue renders a tag's value for a report: text as text, numbers as
// goexif formats them.
func tagValue(t *tiff.Tag) string {
	if t.Format() == tiff.StringVal {
		s, _ := t.StringVal()
		return s
	}
	if t.Type == tiff.DTUndefined || t.Type == tiff.DTByte {
		return fmt.Sprintf("%d bytes", len(t.Val))
	}
	return t.String()
}
