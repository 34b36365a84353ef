package photo

import (
	"fmt"
)

// HEIF (ISO/IEC 23008-12) and AVIF, which is HEIF with AV1-coded items. A
// still HEIF file is an ISO BMFF file whose 'meta' box lists items (coded
// images, derived images such as grids, and metadata such as Exif and XMP),
// where their bytes are ('iloc'), how they relate ('iref') and their
// properties ('iprp'); the bytes are in 'mdat', or in 'idat' inside 'meta'.
//
// Strip keeps the image items and rewrites the container around them: the
// metadata items and thumbnails are removed from every table and their bytes
// from the file, and a new mdat holds the kept items' bytes unchanged.

// maxHEIFMeta bounds the meta box veil reads into memory. An iPhone's is
// tens of kilobytes, even with a few hundred grid tiles.
const maxHEIFMeta = 8 << 20

// maxHEIFItems bounds how many items one file may declare.
const maxHEIFItems = 1 << 16

// maxFtyp bounds the ftyp box: a few brands.
const maxFtyp = 4096

// heifImageTypes lists the item types that hold or derive an image (HEIF
// §6.4, §6.6, AVIF §2.1, ISO 21496-1 'tmap'); only these are kept. JPEG
// ('jpeg') and JPEG 2000 ('j2k1') items are not among them although they are
// images: their codestreams carry metadata of their own (APPn segments with
// Exif, COM text) that would be copied byte for byte. Such an item is
// dropped, and a file whose primary image is one is refused.
var heifImageTypes = map[string]bool{
	"hvc1": true, "hvt1": true, "lhv1": true, "av01": true, "avc1": true,
	"vvc1": true, "unci": true, "evc1": true,
	"grid": true, "iden": true, "iovl": true, "tmap": true, "mski": true,
}

// heifPropsKept lists the item properties kept byte for byte: decoder
// configurations, geometry, display transforms (irot, imir, clap), colour
// (colr with its ICC profile or nclx, HDR metadata) and auxiliary types.
var heifPropsKept = map[string]bool{
	"hvcC": true, "lhvC": true, "av1C": true, "avcC": true, "vvcC": true, "evcC": true,
	"j2kH": true, "jpgC": true, "uncC": true, "cmpd": true, "cmpC": true, "icef": true,
	"cpal": true, "splz": true, "sbpm": true, "snuc": true, "cloc": true, "fpat": true,
	"ispe": true, "pixi": true, "pasp": true, "clap": true, "irot": true, "imir": true,
	"iscl": true, "rloc": true, "lsel": true, "a1op": true, "a1lx": true, "oinf": true,
	"tols": true, "colr": true, "clli": true, "mdcv": true, "cclv": true, "amve": true,
	"reve": true, "ndwt": true, "auxC": true,
}

// heifPropsBlank gives, for each property that can hold free text or a
// time, the body it is rewritten to: the same box type with empty strings or
// a zero time, so that ipma's property indexes stay valid.
var heifPropsBlank = map[string][]byte{
	"udes": {0, 0, 0, 0, 0, 0, 0, 0},             // user description: lang, name, description, tags
	"altt": {0, 0, 0, 0, 0, 0},                   // accessibility text: text, language
	"crtt": {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // creation time
	"mdft": {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // modification time
}

// heifGroupsKept lists the entity groups kept (HEIF §6.8): alternatives
// (an HDR rendition beside the SDR one), stereo pairs, bursts and the like.
var heifGroupsKept = map[string]bool{
	"altr": true, "ster": true, "eqiv": true, "brst": true, "pymd": true,
	"slid": true, "tsyn": true, "iaug": true, "favc": true, "fobr": true,
	"wbbr": true, "dobr": true, "aebr": true, "afbr": true, "prgr": true,
}

type heifExtent struct{ off, n int64 }

// heifItem is one item, from its infe and iloc entries.
type heifItem struct {
	id          uint32
	typ         string
	hidden      bool
	name        string
	contentType string // of a 'mime' item, or the URI type of a 'uri ' item
	encoding    string // content encoding of a 'mime' item
	located     bool   // has an iloc entry
	inIdat      bool   // construction method 1: extents are offsets into idat
	dataRef     uint16 // data_reference_index
	extents     []heifExtent
}

// heifRef is one SingleItemTypeReferenceBox of iref (ISO 14496-12 §8.11.12).
type heifRef struct {
	typ  string
	from uint32
	to   []uint32
}

// heifAssoc lists the properties of one item or group: each is the 1-based
// index into ipco, with bit 15 set when the property is essential.
type heifAssoc struct {
	id    uint32
	props []uint16
}

type heifIPMA struct {
	version uint8
	flags   uint32
	entries []heifAssoc
}

type heifProp struct {
	typ  string
	raw  []byte // the whole box
	body []byte
}

type heifGroup struct {
	typ      string
	id       uint32
	entities []uint32
	raw      []byte
}

// heifMeta is a parsed meta box.
type heifMeta struct {
	f           Format
	at          int64 // file offset of the meta body, for errors
	handler     string
	handlerName string
	hasDinf     bool
	dref        []bool // per data reference: self-contained (this file)
	primary     uint32
	hasPrimary  bool
	iinfVersion uint8
	ilocVersion uint8
	irefVersion uint8
	items       []*heifItem // in iinf order
	byID        map[uint32]*heifItem
	located     []uint32 // item IDs in iloc order
	refs        []heifRef
	props       []heifProp
	ipmas       []heifIPMA
	hasIdat     bool
	idat        []byte
	groups      []heifGroup
	assoc       map[uint32][]uint16 // item → properties, built by propsOf
	other       []string            // meta children outside the allowlist
	otherIprp   []string
	otherIinf   int // iinf children that are not infe
	seen        map[string]bool
}

func (m *heifMeta) errorf(off int64, format string, args ...any) error {
	return &FormatError{Format: m.f, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func heifUnsupported(f Format, format string, args ...any) error {
	return &UnsupportedError{Format: f, Detail: fmt.Sprintf(format, args...)}
}
