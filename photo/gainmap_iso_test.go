package photo

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// isoPayload builds an ISO 21496-1 APP2 payload: the identifier, the two
// versions, and then, unless flags is negative, the flags byte and n
// 32-bit fields of value v.
func isoPayload(minVersion uint16, flags int, n int, v uint32) []byte {
	p := []byte(isoGainMapID)
	p = binary.BigEndian.AppendUint16(p, minVersion)
	p = binary.BigEndian.AppendUint16(p, 0)
	if flags < 0 {
		return p
	}
	p = append(p, byte(flags))
	for range n {
		p = binary.BigEndian.AppendUint32(p, v)
	}
	return p
}

// TestISOGainMapStrict checks the ISO 21496-1 parser on each layout the
// standard allows and on each way a segment can be malformed or carry
// fields veil does not know.
func TestISOGainMapStrict(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		ok   bool
	}{
		{"one channel", isoPayload(0, 0x40, 2*7, 1), true},
		{"three channels", isoPayload(0, 0xC0, 2*17, 1), true},
		{"one channel, common denominator", isoPayload(0, 0x08, 1+7, 1), true},
		{"three channels, common denominator, backward", isoPayload(0, 0x8C, 1+17, 1), true},
		{"minimum_version 1", isoPayload(1, 0x40, 2*7, 1), false},
		{"minimum_version 1, versions alone", isoPayload(1, -1, 0, 0), false},
		{"reserved flag bit", isoPayload(0, 0x41, 2*7, 1), false},
		{"reserved flag bit 5", isoPayload(0, 0x60, 2*7, 1), false},
		{"zero denominators", isoPayload(0, 0x40, 2*7, 0), false},
		{"zero common denominator", isoPayload(0, 0x08, 1+7, 0), false},
		{"one field short", isoPayload(0, 0x40, 2*7-1, 1), false},
		{"one field too many", isoPayload(0, 0x40, 2*7+1, 1), false},
		{"one byte too many", append(isoPayload(0, 0x40, 2*7, 1), 0), false},
		{"three channels' flag with one channel", isoPayload(0, 0xC0, 2*7, 1), false},
		{"versions cut short", []byte(isoGainMapID + "\x00\x00\x00"), false},
		{"identifier alone", []byte(isoGainMapID), false},
		{"identifier without its NUL", isoPayload(0, -1, 0, 0)[1:], false},
	} {
		if params, ok := isoGainMap(tc.p); ok != tc.ok || params != tc.ok {
			t.Errorf("%s: accepted %v with parameters %v, want %v", tc.name, ok, params, tc.ok)
		}
	}
	if params, ok := isoGainMap(isoPayload(0, -1, 0, 0)); !ok || params {
		t.Errorf("versions alone (a primary image's form): accepted %v with parameters %v", ok, params)
	}
	// One denominator zero among many is enough to refuse the segment.
	p := isoPayload(0, 0xC0, 2*17, 1)
	binary.BigEndian.PutUint32(p[len(p)-4:], 0)
	if isoGainMapOK(p) {
		t.Error("a zero alternate offset denominator was accepted")
	}
}

// withGainMapISO returns the ISO-only gain-map sample with the gain map's
// ISO 21496-1 payload replaced by p and MPF's length of the gain map
// fixed, so that everything but the segment is as a phone writes it.
func withGainMapISO(t testing.TB, p []byte) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "gainmap", "made-iso-only-small_uhdr.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	mpf := bytes.Index(b, []byte(mpfID))
	tiff := mpf + len(mpfID)
	_, size, off, ok := mpfEntries(b[mpf : mpf+200])
	if !ok || len(size) != 2 {
		t.Fatal("sample's MPF does not parse")
	}
	gm := tiff + int(off[1])
	iso := bytes.Index(b[gm:], []byte(isoGainMapID)) + gm
	n := int(binary.BigEndian.Uint16(b[iso-2:])) - 2
	if len(p) > 0xFFFF-2 {
		p = p[:0xFFFF-2]
	}
	out := append(bytes.Clone(b[:iso-2]), byte((len(p)+2)>>8), byte(len(p)+2))
	out = append(append(out, p...), b[iso+n:]...)
	// The MP entry of the gain map: its size is the second field.
	ifd := tiff + int(binary.BigEndian.Uint32(b[tiff+4:]))
	for i := range int(binary.BigEndian.Uint16(b[ifd:])) {
		e := ifd + 2 + 12*i
		if binary.BigEndian.Uint16(b[e:]) == 0xB002 {
			at := tiff + int(binary.BigEndian.Uint32(b[e+8:])) + 16 + 4
			binary.BigEndian.PutUint32(out[at:], size[1]+uint32(len(p)-n))
		}
	}
	return out
}

// TestISOOnlyGainMap checks a gain map that only ISO 21496-1 describes:
// kept with its segment when the segment parses and holds the parameters,
// dropped as a whole (and said so) when it does not.
func TestISOOnlyGainMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		kept bool
	}{
		{"well-formed", withGainMapISO(t, isoPayload(0, 0xC0, 2*17, 1)), true},
		{"reserved flag set", withGainMapISO(t, isoPayload(0, 0xC1, 2*17, 1)), false},
		{"versions alone", withGainMapISO(t, isoPayload(0, -1, 0, 0)), false},
	} {
		out, res, err := strip(t, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.GainMap != tc.kept {
			t.Errorf("%s: gain map kept %v, want %v (dropped %q)", tc.name, res.GainMap, tc.kept, res.Dropped)
		}
		if dropped := strings.Contains(strings.Join(res.Dropped, ","), "HDR gain map"); dropped == tc.kept {
			t.Errorf("%s: dropped %q", tc.name, res.Dropped)
		}
		if got := bytes.Count(out, []byte(isoGainMapID)); tc.kept && got != 2 || !tc.kept && got != 0 {
			t.Errorf("%s: %d ISO 21496-1 segments in the output", tc.name, got)
		}
		if err := stripProperties(tc.in); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// FuzzISOGainMap feeds arbitrary ISO 21496-1 payloads to the parser, alone
// and in the gain map of a real Ultra HDR JPEG: no panic; an accepted
// payload has one of the exact lengths the standard allows; and Strip keeps
// the gain map exactly when the parser finds its parameters, with output
// that scans clean and strips to itself.
func FuzzISOGainMap(f *testing.F) {
	for _, p := range [][]byte{
		isoPayload(0, -1, 0, 0), isoPayload(0, 0xC0, 2*17, 1), isoPayload(0, 0x48, 1+7, 3),
	} {
		f.Add(p[len(isoGainMapID):])
	}
	lengths := map[int]bool{4: true}
	for _, ch := range []int{1, 3} {
		lengths[5+8*(2+5*ch)] = true
		lengths[5+4*(1+2+5*ch)] = true
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := append([]byte(isoGainMapID), b...)
		params, ok := isoGainMap(p)
		if ok && !lengths[len(b)] || params && !ok {
			t.Fatalf("accepted a payload of %d bytes (parameters %v, ok %v)", len(b), params, ok)
		}
		in := withGainMapISO(t, p)
		_, res, err := strip(t, in)
		if err != nil {
			t.Fatalf("strip: %v", err)
		}
		if res.GainMap != params {
			t.Fatalf("gain map kept %v, parameters found %v", res.GainMap, params)
		}
		if err := stripProperties(in); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCheckJPEGISO checks that the self-check refuses an output carrying ISO
// 21496-1 segments Strip never writes: two in one image, a malformed one, a
// gain map whose only ISO segment holds no parameters, one in a JPEG without
// a gain map.
func TestCheckJPEGISO(t *testing.T) {
	out, res, err := strip(t, withGainMapISO(t, isoPayload(0, 0xC0, 2*17, 1)))
	if err != nil || !res.GainMap {
		t.Fatalf("strip: %v, gain map kept %v", err, res.GainMap)
	}
	check := func(b []byte, gainMap bool) error {
		j := newJPEGReader(bytes.NewReader(b))
		defer j.close()
		_, err := checkJPEGImage(j, gainMap)
		return err
	}
	gm := mpfSecondImage(t, out)
	if err := checkJPEG(bytes.NewReader(out)); err != nil || check(gm, true) != nil {
		t.Fatalf("Strip's own output refused: %v, %v", err, check(gm, true))
	}
	// The primary's segment: the versions alone.
	first := bytes.Index(out, []byte(isoGainMapID)) - 4
	seg := out[first : first+4+len(isoGainMapID)+4]
	// The gain map's segment, with its parameters cut to the versions.
	at := bytes.Index(gm, []byte(isoGainMapID)) - 4
	n := int(binary.BigEndian.Uint16(gm[at+2:]))
	versionsOnly := cat(gm[:at], seg, gm[at+2+n:])
	malformed := bytes.Clone(gm)
	malformed[at+4+len(isoGainMapID)+4] |= 0x01 // a reserved flag bit
	plain, err := os.ReadFile(filepath.Join(goroot(t), "src", "image", "testdata", "video-001.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := check(plain, false); err != nil {
		t.Fatalf("plain JPEG refused: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		b          []byte
		gainMap    bool
	}{
		{"two ISO segments in the primary", "not gain map metadata alone", cat(out[:first], seg, out[first:]), false},
		{"reserved flag bit in the gain map's", "not gain map metadata alone", malformed, true},
		{"gain map with the versions alone", "gain map without its parameters", versionsOnly, true},
		{"ISO segment in a JPEG without gain map", "without a gain map", cat(plain[:2], seg, plain[2:]), false},
	} {
		if err := check(tc.b, tc.gainMap); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
