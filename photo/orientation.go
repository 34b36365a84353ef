package photo

// keptOrientation decides, as a photo is read in file order, the
// orientation its stripped copy keeps and when the minimal Exif block that
// carries it is written. Readers honour the first Exif block's Orientation;
// XMP's tiff:Orientation counts only when that block has no valid
// Orientation tag (or there is no Exif), which is what exiftool and Pillow
// show. Strip and Scan drive the same decisions, so that Scan reports what
// Strip keeps.
type keptOrientation struct {
	exifSeen bool // the first Exif block was read; later ones are ignored
	fromExif int  // its Orientation, 0 when absent or invalid
	fromXMP  int  // the first valid tiff:Orientation in XMP, 0 when none
	written  bool // a minimal Exif block has been written
	kept     int  // the orientation kept so far, 0 for none (upright)
}

// exif reads an Exif block (its TIFF structure). It returns the orientation
// to write in its place, 0 for none.
func (k *keptOrientation) exif(tiff []byte) int {
	if k.exifSeen {
		return 0
	}
	k.exifSeen = true
	k.fromExif, _ = exifOrientationTag(tiff)
	if k.written || k.fromExif == 0 {
		return 0
	}
	k.kept = k.fromExif
	if k.kept == 1 {
		return 0
	}
	k.written = true
	return k.kept
}

// xmp reads an XMP packet for an orientation that a later flush may write.
func (k *keptOrientation) xmp(packet []byte) {
	if k.fromXMP == 0 {
		k.fromXMP = xmpOrientation(packet)
	}
}

// flush returns the orientation to write now, 0 for none: XMP's, when no
// Exif block had an Orientation and none has been written. The container
// calls it where the Exif block must be written at the latest.
func (k *keptOrientation) flush() int {
	if k.written || k.fromExif != 0 || k.fromXMP <= 1 {
		return 0
	}
	k.written = true
	k.kept = k.fromXMP
	return k.kept
}

// value is the orientation kept: 1 (upright) when none.
func (k *keptOrientation) value() int { return max(k.kept, 1) }
