package photo

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// Baseline TIFF (TIFF 6.0, Adobe 1992): a header, then a chain of image file
// directories (IFDs), one per page, each a sorted table of tagged values
// that says where the page's strips or tiles lie in the file. Metadata lives
// in tags (Make, DateTime, Artist, XMP, IPTC) and in sub-IFDs they point to
// (Exif, GPS). Strip rewrites every IFD with only the tags that describe the
// image structure and copies each strip or tile byte for byte. TIFF-based
// camera raw (DNG, NEF, ARW, ...) keeps its sensor data in sub-IFDs or in
// vendor compressions that veil does not read: those files are refused.

const (
	tiffShort = 3
	tiffLong  = 4
)

// TIFF tags that veil reads.
const (
	tagCompression     = 259
	tagPhotometric     = 262
	tagStripOffsets    = 273
	tagStripByteCounts = 279
	tagTileOffsets     = 324
	tagTileByteCounts  = 325
	tagSubIFDs         = 330
	tagJPEGTables      = 347
	tagJPEGIFOffset    = 513
	tagXMP             = 700
	tagDNGVersion      = 50706
	tagMake            = 271
	tagICC             = 34675 // ICC.1:2022 Annex B.5
)

// tiffKept lists the tags Strip keeps: those that say how to decode and
// display the pixels (TIFF 6.0 baseline and extension tags, the ICC profile
// of TIFF/EP and ICC.1 Annex B). Offsets and byte counts are rewritten.
var tiffKept = map[uint16]bool{
	254: true, 255: true, // NewSubfileType, SubfileType
	256: true, 257: true, 258: true, 259: true, 262: true, 263: true, // size, BitsPerSample, Compression, Photometric, Threshholding
	266: true, 273: true, 274: true, 277: true, 278: true, 279: true, // FillOrder, StripOffsets, Orientation, SamplesPerPixel, RowsPerStrip, StripByteCounts
	280: true, 281: true, 282: true, 283: true, 284: true, // Min/MaxSampleValue, X/YResolution, PlanarConfiguration
	290: true, 291: true, 292: true, 293: true, 296: true, 297: true, 301: true, // GrayResponse, T4/T6Options, ResolutionUnit, PageNumber, TransferFunction
	317: true, 318: true, 319: true, 320: true, 321: true, // Predictor, WhitePoint, PrimaryChromaticities, ColorMap, HalftoneHints
	322: true, 323: true, 324: true, 325: true, // tiles
	332: true, 334: true, 336: true, 338: true, 339: true, 340: true, 341: true, // InkSet, NumberOfInks, DotRange, ExtraSamples, SampleFormat, SMin/SMax
	347: true, 529: true, 530: true, 531: true, 532: true, // JPEGTables, YCbCr, ReferenceBlackWhite
	34675: true, // ICC profile
}

// tiffCompressions lists the compressions whose strips veil copies: the
// baseline and TIFF 6.0 ones and the common Adobe and libtiff additions.
// Old-style JPEG (6) points into the file from outside the strips; the
// vendor codes of camera raw are refused as raw.
var tiffCompressions = map[uint64]bool{
	1: true, 2: true, 3: true, 4: true, 5: true, 7: true, 8: true,
	32773: true, 32946: true, 34925: true, 50000: true, 50001: true,
}

// Limits on what one file may declare.
const (
	maxTIFFPages   = 1 << 14
	maxTIFFEntries = 1 << 12
	maxTIFFChunks  = 1 << 22 // strips or tiles in one page
)

// tiffEntry is one IFD entry; val holds its value bytes when they were read.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	valOff   int64 // where the value is: in the entry itself or out of line
	val      []byte
}

// size is the value's length in bytes, -1 for an unknown type.
func (e *tiffEntry) size() int64 {
	switch {
	case e.typ == 13: // IFD (TIFF Technical Note 1): an offset
		return 4 * int64(e.count)
	case int(e.typ) >= len(tiffTypeSize) || tiffTypeSize[e.typ] == 0:
		return -1
	}
	return int64(tiffTypeSize[e.typ]) * int64(e.count)
}

// tiffPage is one IFD with the strips or tiles it points to.
type tiffPage struct {
	at      int64 // IFD offset
	entries []tiffEntry
	tiled   bool
	offsets []uint64
	counts  []uint64
}

// tiffByteOrder is the byte order of a TIFF file, which its output keeps:
// uncompressed samples wider than a byte are in it too.
type tiffByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// tiffFile is a parsed TIFF.
type tiffFile struct {
	bo    tiffByteOrder
	size  int64
	pages []*tiffPage
}

func tiffErr(off int64, format string, args ...any) error {
	return &FormatError{Format: TIFF, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func readAtFull(r io.ReaderAt, b []byte, off int64) error {
	if _, err := r.ReadAt(b, off); err != nil {
		return formatErr(TIFF, off, err)
	}
	return nil
}

// parseTIFF reads the IFD chain and the values of the kept tags, and
// refuses what Strip cannot copy losslessly. readAll also reads the values
// of dropped tags up to maxMetaChunk each, for Scan.
// geometry returns the first page's stored size and its orientation (1
// when the tag is missing or out of range).
func (t *tiffFile) geometry() (w, h, orientation int) {
	first := t.pages[0]
	orientation = 1
	if o := t.first(first, tagOrientation, 1); o >= 1 && o <= 8 {
		orientation = int(o)
	}
	return int(t.first(first, 256, 0)), int(t.first(first, 257, 0)), orientation
}

func parseTIFF(r io.ReaderAt, size int64, readAll bool) (*tiffFile, error) {
	var hdr [8]byte
	if size < 8 {
		return nil, tiffErr(0, "file ends early (truncated, or still being copied?)")
	}
	if err := readAtFull(r, hdr[:], 0); err != nil {
		return nil, err
	}
	t := &tiffFile{size: size}
	switch string(hdr[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	case "II+\x00", "MM\x00+":
		return nil, &UnsupportedError{Format: TIFF, Detail: "BigTIFF"}
	default:
		return nil, tiffErr(0, "missing TIFF header")
	}
	seen := map[int64]bool{}
	entries, chunks := 0, 0
	for next := int64(t.bo.Uint32(hdr[4:])); next != 0; {
		if len(t.pages) >= maxTIFFPages {
			return nil, &UnsupportedError{Format: TIFF, Detail: fmt.Sprintf("TIFF with more than %d pages", maxTIFFPages)}
		}
		if seen[next] {
			return nil, tiffErr(next, "IFD chain loops back to an earlier IFD")
		}
		seen[next] = true
		p, n, err := t.parseIFD(r, next, readAll)
		if err != nil {
			return nil, err
		}
		t.pages = append(t.pages, p)
		next = n
		// A small hostile file can chain many large IFDs that overlap;
		// real ones are far below these totals.
		entries += len(p.entries)
		chunks += len(p.offsets)
		if entries > 8*maxTIFFEntries || chunks > maxTIFFChunks {
			return nil, &UnsupportedError{Format: TIFF, Detail: "TIFF with more directory entries or strips than veil reads"}
		}
	}
	if len(t.pages) == 0 {
		return nil, tiffErr(4, "no image file directory")
	}
	if err := t.checkOverlaps(); err != nil {
		return nil, err
	}
	return t, nil
}

// checkOverlaps refuses strips or tiles that share bytes. No TIFF writer
// makes them, and a few hundred bytes of them could make Strip copy and hash
// gigabytes; without them, what Strip copies is at most the file.
func (t *tiffFile) checkOverlaps() error {
	type span struct{ off, n uint64 }
	var spans []span
	for _, p := range t.pages {
		for i, o := range p.offsets {
			if p.counts[i] > 0 {
				spans = append(spans, span{o, p.counts[i]})
			}
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.off, b.off) })
	for i := 1; i < len(spans); i++ {
		if spans[i-1].off+spans[i-1].n > spans[i].off {
			return tiffErr(int64(spans[i].off), "strips or tiles overlap")
		}
	}
	return nil
}

// parseIFD reads the IFD at off (TIFF 6.0 §2 "Image File Directory") and
// returns it with the offset of the next one.
func (t *tiffFile) parseIFD(r io.ReaderAt, off int64, readAll bool) (*tiffPage, int64, error) {
	if off < 8 || off+2 > t.size {
		return nil, 0, tiffErr(off, "IFD offset %d is outside the file", off)
	}
	var c [2]byte
	if err := readAtFull(r, c[:], off); err != nil {
		return nil, 0, err
	}
	n := int64(t.bo.Uint16(c[:]))
	if n == 0 || n > maxTIFFEntries {
		return nil, 0, tiffErr(off, "IFD with %d entries", n)
	}
	if off+2+12*n+4 > t.size {
		return nil, 0, tiffErr(off, "IFD runs past the end of the file")
	}
	raw := make([]byte, 12*n+4)
	if err := readAtFull(r, raw, off+2); err != nil {
		return nil, 0, err
	}
	p := &tiffPage{at: off}
	for i := int64(0); i < n; i++ {
		b := raw[12*i:]
		e := tiffEntry{tag: t.bo.Uint16(b), typ: t.bo.Uint16(b[2:]), count: t.bo.Uint32(b[4:])}
		if len(p.entries) > 0 && e.tag <= p.entries[len(p.entries)-1].tag {
			return nil, 0, tiffErr(off, "IFD entries are not in ascending tag order")
		}
		sz := e.size()
		kept := tiffKept[e.tag] || e.tag == tagSubIFDs || e.tag == tagDNGVersion || e.tag == tagJPEGIFOffset || e.tag == tagMake
		switch {
		case sz < 0 && tiffKept[e.tag]:
			return nil, 0, tiffErr(off, "tag %d has unknown type %d", e.tag, e.typ)
		case sz < 0:
		case sz <= 4:
			e.valOff = off + 2 + 12*i + 8
			e.val = bytes.Clone(b[8 : 8+sz])
		default:
			e.valOff = int64(t.bo.Uint32(b[8:]))
			if e.valOff+sz > t.size {
				return nil, 0, tiffErr(off, "value of tag %d runs past the end of the file", e.tag)
			}
			limit := int64(maxMetaChunk)
			if e.tag == tagStripOffsets || e.tag == tagStripByteCounts || e.tag == tagTileOffsets || e.tag == tagTileByteCounts {
				limit = 8 * maxTIFFChunks
			}
			if (kept || readAll) && sz <= limit {
				e.val = make([]byte, sz)
				if err := readAtFull(r, e.val, e.valOff); err != nil {
					return nil, 0, err
				}
			} else if kept {
				return nil, 0, &UnsupportedError{Format: TIFF, Detail: fmt.Sprintf("TIFF whose tag %d holds %d bytes", e.tag, sz)}
			}
		}
		p.entries = append(p.entries, e)
	}
	if err := t.checkPage(p); err != nil {
		return nil, 0, err
	}
	return p, int64(t.bo.Uint32(raw[12*n:])), nil
}

// entry returns the page's entry for tag.
func (p *tiffPage) entry(tag uint16) *tiffEntry {
	for i := range p.entries {
		if p.entries[i].tag == tag {
			return &p.entries[i]
		}
	}
	return nil
}

// uints decodes an entry of type BYTE, SHORT or LONG.
func (t *tiffFile) uints(e *tiffEntry) ([]uint64, bool) {
	if e == nil || e.val == nil {
		return nil, false
	}
	var out []uint64
	switch e.typ {
	case 1:
		for _, b := range e.val {
			out = append(out, uint64(b))
		}
	case tiffShort:
		for i := 0; i+2 <= len(e.val); i += 2 {
			out = append(out, uint64(t.bo.Uint16(e.val[i:])))
		}
	case tiffLong:
		for i := 0; i+4 <= len(e.val); i += 4 {
			out = append(out, uint64(t.bo.Uint32(e.val[i:])))
		}
	default:
		return nil, false
	}
	return out, true
}

// first returns the first value of a numeric entry, def when it is absent.
func (t *tiffFile) first(p *tiffPage, tag uint16, def uint64) uint64 {
	if v, ok := t.uints(p.entry(tag)); ok && len(v) > 0 {
		return v[0]
	}
	return def
}

// checkPage refuses camera raw and what cannot be copied, and reads where
// the page's strips or tiles are.
func (t *tiffFile) checkPage(p *tiffPage) error {
	if raw := t.rawKind(p); raw != "" {
		return &UnsupportedError{Format: RAW, Detail: raw}
	}
	if p.entry(tagSubIFDs) != nil {
		// Where NEF, ARW and other raw keep the sensor data, and
		// multi-resolution TIFFs their other sizes: dropping them loses
		// an image, copying them needs their own rewrite.
		return &UnsupportedError{Format: TIFF, Detail: "TIFF with sub-images (SubIFDs, as in NEF, ARW and other camera raw)"}
	}
	if c := t.first(p, tagCompression, 1); !tiffCompressions[c] {
		if c == 6 {
			return &UnsupportedError{Format: TIFF, Detail: "TIFF with old-style JPEG compression"}
		}
		return &UnsupportedError{Format: TIFF, Detail: fmt.Sprintf("TIFF with compression %d", c)}
	}
	offTag, cntTag := uint16(tagStripOffsets), uint16(tagStripByteCounts)
	if p.entry(tagTileOffsets) != nil {
		p.tiled, offTag, cntTag = true, tagTileOffsets, tagTileByteCounts
	}
	offs, ok1 := t.uints(p.entry(offTag))
	cnts, ok2 := t.uints(p.entry(cntTag))
	if !ok1 || !ok2 || len(offs) == 0 || len(offs) != len(cnts) || len(offs) > maxTIFFChunks {
		return tiffErr(p.at, "IFD has no valid strip or tile offsets and byte counts")
	}
	for i := range offs {
		if offs[i]+cnts[i] > uint64(t.size) {
			return tiffErr(p.at, "strip or tile %d runs past the end of the file", i)
		}
	}
	p.offsets, p.counts = offs, cnts
	return nil
}

// rawKind names the camera raw a page belongs to, "" when it is an image
// veil can copy: raw keeps its sensor data in sub-IFDs, in colour filter
// array or linear raw samples, or in vendor compressions (TIFF/EP, DNG 1.6).
func (t *tiffFile) rawKind(p *tiffPage) string {
	vendor := ""
	if e := p.entry(tagMake); e != nil && e.val != nil {
		vendor = string(bytes.TrimRight(e.val, "\x00 ")) + " "
	}
	photometric := t.first(p, tagPhotometric, 0)
	compression := t.first(p, tagCompression, 1)
	switch {
	case p.entry(tagDNGVersion) != nil:
		return "DNG camera raw"
	case photometric == 32803, photometric == 34892, compression >= 32767 && compression <= 34892 && !tiffCompressions[compression],
		p.entry(tagSubIFDs) != nil && vendor != "":
		return vendor + "camera raw (a TIFF-based raw such as NEF or ARW)"
	}
	return ""
}
