package photo

import (
	"bytes"
	"encoding/binary"
)

// ISO 21496-1 gain map metadata in JPEG. iOS 18, newer Android (libultrahdr)
// and Adobe Camera Raw 17 describe a gain map in binary instead of, or
// beside, the hdrgm XMP: an APP2 segment with the URN below. The gain map
// image's segment holds the parameters; the primary's holds the versions
// alone, by which readers know to look for them. The payload is numbers and
// flags only, so Strip keeps a segment that parses exactly and drops any
// other: a field veil does not know could carry anything.

// isoGainMapID starts the APP2 payload (libultrahdr, Skia, Apple).
const isoGainMapID = "urn:iso:std:iso:ts:21496:-1\x00"

// ISO 21496-1 flags: the two defined by the standard in its high bits,
// and the two that libultrahdr and Skia write in its low nibble.
const (
	isoMultiChannel    = 0x80 // three sets of channel parameters, not one
	isoBaseColourSpace = 0x40 // gain map maths in the base image's colour space
	isoCommonDenom     = 0x08 // one denominator for every fraction
	isoBackward        = 0x04 // the base image is the HDR rendition
	isoKnownFlags      = isoMultiChannel | isoBaseColourSpace | isoCommonDenom | isoBackward
)

// The fractions of the metadata: the HDR headroom of the base and of the
// alternate rendition, then per channel the gain map's min, max and gamma
// and the base and alternate offsets.
const (
	isoHeadroomFields   = 2
	isoPerChannelFields = 5
)

// isoGainMap reports whether an APP2 payload, identifier included, is
// ISO 21496-1 gain map metadata exactly as the standard lays it out, and
// whether it holds the parameters (a gain map's) or the versions alone (a
// primary image's):
//
//	u16 minimum_version (0), u16 writer_version
//	then nothing (the primary image's form), or:
//	u8 flags
//	common denominator: u32 denominator, u32 headroom numerators (2),
//	  per channel u32 numerators (5)
//	otherwise: u32 numerator and denominator pairs, 2 + 5 per channel
//
// Every length is exact, reserved flag bits are zero and no denominator is
// zero; anything else, including the fields a later minimum_version may
// add, is refused.
func isoGainMap(p []byte) (params, ok bool) {
	b, found := bytes.CutPrefix(p, []byte(isoGainMapID))
	if !found || len(b) < 4 || binary.BigEndian.Uint16(b) != 0 {
		return false, false
	}
	b = b[4:]
	if len(b) == 0 {
		return false, true
	}
	flags := b[0]
	if flags&^isoKnownFlags != 0 {
		return false, false
	}
	channels := 1
	if flags&isoMultiChannel != 0 {
		channels = 3
	}
	fractions := isoHeadroomFields + channels*isoPerChannelFields
	b = b[1:]
	if flags&isoCommonDenom != 0 {
		ok := len(b) == 4*(1+fractions) && binary.BigEndian.Uint32(b) != 0
		return ok, ok
	}
	if len(b) != 8*fractions {
		return false, false
	}
	for i := 4; i < len(b); i += 8 {
		if binary.BigEndian.Uint32(b[i:]) == 0 {
			return false, false
		}
	}
	return true, true
}

// isoGainMapOK reports whether an APP2 payload is well-formed ISO 21496-1
// metadata of either form.
func isoGainMapOK(p []byte) bool {
	_, ok := isoGainMap(p)
	return ok
}
