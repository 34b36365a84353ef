package photo

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// An ICC profile (ICC.1:2022, the v4.4 specification, which also describes
// v2 profiles' layout) tells a reader how to turn pixel values into colour.
// It also carries free text — a description, a copyright notice, device
// descriptions, a metadata dictionary — and header fields naming a creation
// date, a device and a creator, into any of which a writer can put a
// patient's name. sanitizeICC keeps every tag a colour management module
// reads byte for byte, writes a fixed description and copyright, drops the
// other text, and blanks the identifying header fields, so a photo keeps its
// colour exactly and loses the text.

// iccNeutral is the text a sanitised profile's description and copyright
// hold.
const iccNeutral = "ICC profile"

// maxICC bounds a profile veil reads into memory: the most a JPEG can hold
// (255 APP2 segments, ICC.1:2022 Annex B.4) and far above any real profile.
const maxICC = 255 * (0xFFFF - 2 - len(iccID) - 2)

// The header fields veil reads or blanks (ICC.1:2022 §7.2, byte offsets).
const (
	iccHeaderLen  = 128
	iccCMM        = 4  // §7.2.3: preferred CMM
	iccDateTime   = 24 // §7.2.8: 12 bytes
	iccSignature  = 36 // §7.2.9: "acsp"
	iccPlatform   = 40 // §7.2.10: primary platform
	iccFlags      = 44 // §7.2.11
	iccMfg        = 48 // §7.2.12: device manufacturer
	iccModel      = 52 // §7.2.13: device model
	iccIntent     = 64 // §7.2.15
	iccCreator    = 80 // §7.2.17: profile creator
	iccProfileID  = 84 // §7.2.18: 16 bytes, MD5
	iccReserved   = 100
	iccTagTable   = 128 // §7.3
	maxICCTags    = 1024
	iccTypeHeader = 8 // a tag's type signature and 4 reserved bytes (§10.1)
)

// iccColourTags lists the tags whose data a colour management module may
// read (ICC.1:2022 §9.2, and §9.2 of the v2 specification ICC.1:2001-04 for
// bkpt), kept byte for byte. Every other tag is dropped or, for the
// description and copyright that a profile must carry, replaced.
var iccColourTags = map[string]bool{
	"A2B0": true, "A2B1": true, "A2B2": true, "B2A0": true, "B2A1": true, "B2A2": true,
	"D2B0": true, "D2B1": true, "D2B2": true, "D2B3": true, "B2D0": true, "B2D1": true, "B2D2": true, "B2D3": true,
	"rXYZ": true, "gXYZ": true, "bXYZ": true, "rTRC": true, "gTRC": true, "bTRC": true, "kTRC": true,
	"wtpt": true, "bkpt": true, "chad": true, "chrm": true, "cicp": true, "lumi": true, "gamt": true,
	"pre0": true, "pre1": true, "pre2": true, "clro": true, "clrt": true, "clot": true,
	"ciis": true, "rig0": true, "rig2": true, "tech": true, "meas": true, "view": true, "resp": true,
}

// iccTextTypes are the tag types that hold free text (ICC.1:2022 §10.15
// multiLocalizedUnicodeType, §10.24 textType, and v2's textDescriptionType).
var iccTextTypes = map[string]bool{"mluc": true, "text": true, "desc": true}

// iccTag is one entry of the tag table (ICC.1:2022 §7.3.4).
type iccTag struct {
	sig       string
	off, size uint32
}

// iccProfile is a parsed profile whose every offset and length has been
// checked against its size.
type iccProfile struct {
	b    []byte // exactly the declared profile size
	tags []iccTag
}

func (p *iccProfile) data(t iccTag) []byte { return p.b[t.off : t.off+t.size] }

// tagType returns a tag's type signature (ICC.1:2022 §10.1).
func (p *iccProfile) tagType(t iccTag) string { return string(p.b[t.off : t.off+4]) }

// parseICC checks a profile the way image/png checks a chunk: the declared
// size must fit the bytes given, the header must carry "acsp", and every tag
// must lie after the tag table, inside the profile, and be long enough to
// hold its type signature. Bytes after the declared size (padding some
// writers leave in a JPEG's last APP2 segment) are ignored.
func parseICC(b []byte) (*iccProfile, error) {
	if len(b) < iccTagTable+4 {
		return nil, fmt.Errorf("ICC profile of %d bytes is shorter than its header", len(b))
	}
	size := binary.BigEndian.Uint32(b)
	if size < iccTagTable+4 || int64(size) > int64(len(b)) {
		return nil, fmt.Errorf("ICC profile declares %d bytes but holds %d", size, len(b))
	}
	b = b[:size]
	if string(b[iccSignature:iccSignature+4]) != "acsp" {
		return nil, fmt.Errorf("ICC profile lacks its acsp signature")
	}
	n := binary.BigEndian.Uint32(b[iccTagTable:])
	if n > maxICCTags || iccTagTable+4+12*int64(n) > int64(size) {
		return nil, fmt.Errorf("ICC tag table of %d entries does not fit", n)
	}
	p := &iccProfile{b: b, tags: make([]iccTag, n)}
	end := uint32(iccTagTable + 4 + 12*n)
	for i := range p.tags {
		e := b[iccTagTable+4+12*i:]
		t := iccTag{sig: string(e[:4]), off: binary.BigEndian.Uint32(e[4:]), size: binary.BigEndian.Uint32(e[8:])}
		if t.off < end || t.size < iccTypeHeader || uint64(t.off)+uint64(t.size) > uint64(size) {
			return nil, fmt.Errorf("ICC tag %q at %d (%d bytes) lies outside the profile's data", t.sig, t.off, t.size)
		}
		p.tags[i] = t
	}
	return p, nil
}

// sanitizeICC returns a copy of the profile b with its text and identifying
// header fields made neutral (see the comment at the top of this file):
//
//   - the tags of iccColourTags, byte for byte, except clrt's colorant
//     names, which are blanked (§10.5: names are labels, the PCS values
//     are the colour);
//   - desc and cprt, required in every profile (§8.2), as iccNeutral in the
//     text type they used (mluc in v4, desc and text in v2);
//   - no other tag: dmnd, dmdd, vued, targ, calt, meta (§9.2.46, a
//     free-form dictionary), pseq and psid (descriptions of other
//     profiles), named colours and private tags, none of which a colour
//     management module needs to render an image;
//   - in the header, zeros for the preferred CMM (§7.2.3), the creation
//     date (§7.2.8), the primary platform (§7.2.10), the device
//     manufacturer and model (§7.2.12-13), profile creator (§7.2.17) and
//     the reserved bytes (§7.2.19); the profile ID (§7.2.18) recomputed
//     when the profile had one, left zero ("not computed") when not.
//
// Tags that shared data keep sharing it. Sanitising a sanitised profile
// returns the same bytes, which is how the self-check recognises one. An
// error means the profile is malformed: its container must then drop it,
// and the image renders as its colour space's default (sRGB for most
// readers) — a visible colour shift for a wide-gamut photo, never a leak.
func sanitizeICC(b []byte) ([]byte, error) {
	p, err := parseICC(b)
	if err != nil {
		return nil, err
	}
	v4 := p.b[8] >= 4
	out := make([]byte, iccTagTable+4, len(p.b))
	copy(out, p.b[:iccHeaderLen])
	clear(out[iccCMM : iccCMM+4])
	clear(out[iccDateTime : iccDateTime+12])
	clear(out[iccPlatform : iccPlatform+4])
	clear(out[iccMfg : iccMfg+8])
	clear(out[iccCreator : iccCreator+4])
	hadID := !allZero(p.b[iccProfileID : iccProfileID+16])
	clear(out[iccProfileID:iccHeaderLen])

	// from says where a tag's data came from, so that tags which shared
	// data keep sharing it; a neutral text is identified by its type.
	type source struct {
		neutral   string
		off, size uint32
	}
	type kept struct {
		sig  string
		data []byte
		from source
	}
	var tags []kept
	replaced := map[string]bool{}
	for _, t := range p.tags {
		typ := p.tagType(t)
		switch {
		case (t.sig == "desc" || t.sig == "cprt") && !replaced[t.sig]:
			replaced[t.sig] = true
			d := iccText(typ, v4)
			tags = append(tags, kept{sig: t.sig, data: d, from: source{neutral: string(d[:4])}})
		case iccColourTags[t.sig] && !iccTextTypes[typ] && typ != "dict":
			d := p.data(t)
			if typ == "clrt" {
				d = blankColorantNames(d)
			}
			tags = append(tags, kept{sig: t.sig, data: d, from: source{off: t.off, size: t.size}})
		}
	}
	binary.BigEndian.PutUint32(out[iccTagTable:], uint32(len(tags)))
	table := len(out)
	out = append(out, make([]byte, 12*len(tags))...)
	// Tags that share their data are written once (placed). Tags whose data
	// merely overlap, which no profile writer makes, would each be written
	// in full: 1,024 of them over a 16 MB profile would make 16 GB. The
	// output may exceed the input only by the neutral texts and padding.
	limit := len(b) + 4*len(tags) + 1024 // two neutral texts are under 300 bytes
	placed := map[source]uint32{}
	for i, t := range tags {
		off, ok := placed[t.from]
		if !ok && len(out)+3+len(t.data) > limit {
			return nil, fmt.Errorf("ICC profile's tags overlap: their data would exceed the profile's %d bytes", len(b))
		}
		if !ok {
			for len(out)%4 != 0 { // §7.3.1: tag data starts on a 4-byte boundary
				out = append(out, 0)
			}
			off = uint32(len(out))
			placed[t.from] = off
			out = append(out, t.data...)
		}
		e := out[table+12*i:]
		copy(e, t.sig)
		binary.BigEndian.PutUint32(e[4:], off)
		binary.BigEndian.PutUint32(e[8:], uint32(len(t.data)))
	}
	for len(out)%4 != 0 { // §7.2.2: the profile size is a multiple of 4
		out = append(out, 0)
	}
	binary.BigEndian.PutUint32(out, uint32(len(out)))
	if hadID {
		id := iccProfileIDOf(out)
		copy(out[iccProfileID:], id[:])
	}
	return out, nil
}

// iccProfileIDOf computes the profile ID (ICC.1:2022 §7.2.18): the MD5 of
// the profile with the flags, rendering intent and profile ID fields zero.
func iccProfileIDOf(b []byte) [md5.Size]byte {
	c := bytes.Clone(b)
	clear(c[iccFlags : iccFlags+4])
	clear(c[iccIntent : iccIntent+4])
	clear(c[iccProfileID : iccProfileID+16])
	return md5.Sum(c)
}

// iccText returns the tag data of iccNeutral in text type typ, or in the
// type the profile's version calls for when typ is not a text type.
func iccText(typ string, v4 bool) []byte {
	if !iccTextTypes[typ] {
		typ = "desc"
		if v4 {
			typ = "mluc"
		}
	}
	b := append([]byte(typ), 0, 0, 0, 0)
	switch typ {
	case "mluc": // §10.15: one record, en-US, UTF-16BE
		u := utf16.Encode([]rune(iccNeutral))
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, 12)
		b = append(b, "enUS"...)
		b = binary.BigEndian.AppendUint32(b, uint32(2*len(u)))
		b = binary.BigEndian.AppendUint32(b, 28)
		for _, c := range u {
			b = binary.BigEndian.AppendUint16(b, c)
		}
	case "text": // §10.24: ASCII with a terminating NUL
		b = append(append(b, iccNeutral...), 0)
	case "desc": // ICC.1:2001-04 §6.5.17: ASCII, no Unicode, no ScriptCode
		b = binary.BigEndian.AppendUint32(b, uint32(len(iccNeutral)+1))
		b = append(append(b, iccNeutral...), 0)
		b = append(b, make([]byte, 4+4+2+1+67)...)
	}
	return b
}

// blankColorantNames returns a colorantTableType's data (§10.5) with each
// colorant's 32-byte name zeroed; a malformed table is returned as it is,
// which the caller's type check has already bounded to the profile.
func blankColorantNames(d []byte) []byte {
	if len(d) < 12 {
		return d
	}
	n := binary.BigEndian.Uint32(d[8:])
	if uint64(12)+uint64(n)*38 > uint64(len(d)) {
		return d
	}
	c := bytes.Clone(d)
	for i := range int(n) {
		clear(c[12+38*i : 12+38*i+32])
	}
	return c
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// iccClean reports whether b is a profile sanitizeICC leaves as it is.
func iccClean(b []byte) bool {
	s, err := sanitizeICC(b)
	return err == nil && bytes.Equal(s, b)
}

// scanICC reports what sanitizeICC would change in the profile b: each
// text tag that is not iccNeutral, the other tags it drops, and the header
// fields it blanks.
func scanICC(b []byte, rep *Report) {
	const source = "ICC profile"
	p, err := parseICC(b)
	if err != nil {
		rep.add(CatOther, source, "malformed profile (dropped)", err.Error())
		return
	}
	before := len(rep.Findings)
	if d := p.b[iccDateTime : iccDateTime+12]; !allZero(d) {
		var f [6]uint16
		for i := range f {
			f[i] = binary.BigEndian.Uint16(d[2*i:])
		}
		rep.add(CatDate, source, "creation date", fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", f[0], f[1], f[2], f[3], f[4], f[5]))
	}
	for _, f := range []struct {
		name string
		off  int
	}{{"preferred CMM", iccCMM}, {"primary platform", iccPlatform}, {"device manufacturer", iccMfg}, {"device model", iccModel}, {"profile creator", iccCreator}} {
		if s := p.b[f.off : f.off+4]; !allZero(s) {
			rep.add(CatDevice, source, f.name, string(s))
		}
	}
	if !allZero(p.b[iccReserved:iccHeaderLen]) {
		rep.add(CatOther, source, "reserved header bytes", "")
	}
	v4 := p.b[8] >= 4
	for _, t := range p.tags {
		typ, d := p.tagType(t), p.data(t)
		switch {
		case (t.sig == "desc" || t.sig == "cprt") && bytes.Equal(d, iccText(typ, v4)):
		case iccTextTypes[typ]:
			rep.add(CatText, source, t.sig, iccTextValue(typ, d))
		case iccColourTags[t.sig] && typ != "dict":
		default:
			rep.add(CatText, source, t.sig, fmt.Sprintf("%s, %d bytes", typ, t.size))
		}
	}
	if len(rep.Findings) == before && !iccClean(b) {
		// Nothing named, yet Strip rewrites it: bytes outside every tag,
		// a second desc, a stale profile ID, colorant names.
		rep.add(CatOther, source, "bytes outside its colour data", fmt.Sprintf("%d bytes", len(b)))
	}
}

// maxICCTextShown bounds the bytes of a text tag a finding quotes: a
// profile may hold a thousand tags over the same 16 MB of text.
const maxICCTextShown = 256

// iccTextValue decodes a text tag for a report: the first mluc record, the
// text, or desc's ASCII part.
func iccTextValue(typ string, d []byte) string {
	switch typ {
	case "text":
		return strings.TrimRight(string(d[iccTypeHeader:min(len(d), iccTypeHeader+maxICCTextShown)]), "\x00")
	case "desc":
		if len(d) >= 12 {
			n := binary.BigEndian.Uint32(d[8:])
			if uint64(n) <= uint64(len(d)-12) {
				return strings.TrimRight(string(d[12:12+min(n, maxICCTextShown)]), "\x00")
			}
		}
	case "mluc":
		if len(d) >= 28 {
			n, off := binary.BigEndian.Uint32(d[20:]), binary.BigEndian.Uint32(d[24:])
			if uint64(off)+uint64(n) <= uint64(len(d)) {
				u := make([]uint16, min(n, maxICCTextShown)/2)
				for i := range u {
					u[i] = binary.BigEndian.Uint16(d[int(off)+2*i:])
				}
				return string(utf16.Decode(u))
			}
		}
	}
	return fmt.Sprintf("%s, %d bytes", typ, len(d))
}

// iccChunks gathers the APP2 segments of a JPEG's ICC profile (ICC.1:2022
// Annex B.4): each carries its sequence number and the count, and they may
// come in any order. Anything inconsistent marks the profile bad.
type iccChunks struct {
	parts [][]byte // by sequence number - 1
	got   int
	bad   bool
	done  bool // a whole profile was handed out; a second one is bad
}

// add takes one segment's payload and returns the whole profile once its
// last part has arrived.
func (c *iccChunks) add(p []byte) (profile []byte, complete bool) {
	h := p[len(iccID):]
	if c.bad {
		return nil, false
	}
	if len(h) < 2 || h[1] == 0 || h[0] == 0 || h[0] > h[1] || c.done ||
		c.parts != nil && len(c.parts) != int(h[1]) || c.parts != nil && c.parts[h[0]-1] != nil {
		c.bad = true
		return nil, false
	}
	if c.parts == nil {
		c.parts = make([][]byte, h[1])
	}
	c.parts[h[0]-1] = bytes.Clone(h[2:])
	c.got++
	if c.got < len(c.parts) {
		return nil, false
	}
	c.done = true
	return bytes.Join(c.parts, nil), true
}

// pending reports whether segments of a profile arrived but not all of them.
func (c *iccChunks) pending() bool { return c.parts != nil && !c.done }

// iccSegments splits a profile into APP2 payloads as large as a segment
// allows, numbered from 1 (Annex B.4).
func iccSegments(profile []byte) [][]byte {
	const room = 0xFFFF - 2 - len(iccID) - 2
	n := (len(profile) + room - 1) / room
	var segs [][]byte
	for i := range n {
		part := profile[i*room : min(len(profile), (i+1)*room)]
		segs = append(segs, append(append([]byte(iccID), byte(i+1), byte(n)), part...))
	}
	return segs
}
