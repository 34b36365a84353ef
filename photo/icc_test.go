package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// redTeamPHI is what the red team's crafted profiles carry (s4-redteam
// poc3-icc-text.sh, meta/mkicc.py).
const redTeamPHI = "Jane Doe MRN 483920 DOB 1985-03-02 serial C39XK2ABCD"

// iccLeaks are the pieces of the crafted profile that must not survive.
var iccLeaks = []string{"Jane", "483920", "1985", "C39X", "JDOE", "Photo of", "serial", "private tag"}

// craftedICC builds the red team's profile (mkicc.py), plus a metadata
// dictionary and a private tag: a v2 display profile whose description,
// copyright, device model description, creation date, device model and
// creator carry PHI. curve, when > 0, adds a red TRC of that many entries,
// which makes the profile span several JPEG segments.
func craftedICC(version byte, curve int) []byte {
	textDesc := func(s string) []byte {
		b := append([]byte("desc\x00\x00\x00\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(s)+1))...)
		b = append(append(b, s...), 0)
		return append(b, make([]byte, 4+4+2+1+67)...)
	}
	text := func(s string) []byte { return append(append([]byte("text\x00\x00\x00\x00"), s...), 0) }
	xyz := func(x, y, z int32) []byte {
		b := []byte("XYZ \x00\x00\x00\x00")
		for _, v := range []int32{x, y, z} {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	type tag struct {
		sig  string
		data []byte
	}
	tags := []tag{
		{"desc", textDesc(redTeamPHI)},
		{"cprt", text("Photo of " + redTeamPHI)},
		{"dmdd", textDesc("device serial C39XK2ABCD")},
		{"wtpt", xyz(63190, 65536, 54061)},
		{"meta", append([]byte("dict\x00\x00\x00\x00"), "Jane Doe"...)},
		{"JDOE", append([]byte("zzzz\x00\x00\x00\x00"), "private tag"...)},
		{"rXYZ", xyz(28578, 14581, 1004)},
	}
	if curve > 0 {
		c := binary.BigEndian.AppendUint32([]byte("curv\x00\x00\x00\x00"), uint32(curve))
		for i := range curve {
			c = binary.BigEndian.AppendUint16(c, uint16(i*65535/(curve-1)))
		}
		tags = append(tags, tag{"rTRC", c}, tag{"gTRC", nil}) // gTRC shares rTRC's data
	}
	off := 128 + 4 + 12*len(tags)
	var table, data []byte
	last := [2]uint32{}
	for _, t := range tags {
		if t.data == nil {
			table = append(append(table, t.sig...), binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, last[0]), last[1])...)
			continue
		}
		for (off+len(data))%4 != 0 {
			data = append(data, 0)
		}
		last = [2]uint32{uint32(off + len(data)), uint32(len(t.data))}
		table = append(append(table, t.sig...), binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, last[0]), last[1])...)
		data = append(data, t.data...)
	}
	n := off + len(data)
	h := binary.BigEndian.AppendUint32(nil, uint32(n))
	h = append(h, "none"...)
	h = append(h, version, 0x10, 0, 0)
	h = append(h, "mntrRGB XYZ "...)
	for _, v := range []uint16{2026, 3, 2, 9, 41, 7} {
		h = binary.BigEndian.AppendUint16(h, v)
	}
	h = append(h, "acspAPPL\x00\x00\x00\x00applC39X"...)
	h = append(h, make([]byte, 12)...)
	h = append(h, xyz(63190, 65536, 54061)[8:]...)
	h = append(h, "JDOE"...)
	h = append(h, make([]byte, 44)...)
	if version >= 4 {
		copy(h[100:], "Jane Doe reserved") // reserved bytes must be zero
		copy(h[84:], "0123456789abcdef")   // a profile ID that is not the MD5
	}
	p := append(append(h, binary.BigEndian.AppendUint32(nil, uint32(len(tags)))...), table...)
	return append(p, data...)
}

// iccOf returns the ICC profile embedded in a JPEG (before its first scan),
// PNG or WebP, by a walk independent of the code under test, or nil.
func iccOf(t testing.TB, b []byte) []byte {
	t.Helper()
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8}):
		parts := map[byte][]byte{}
		n := 0
		for i := 2; i+4 <= len(b) && b[i+1] != 0xDA; {
			l := int(binary.BigEndian.Uint16(b[i+2:]))
			p := b[i+4 : i+2+l]
			if b[i+1] == 0xE2 && bytes.HasPrefix(p, []byte("ICC_PROFILE\x00")) {
				parts[p[12]] = p[14:]
				n = int(p[13])
			}
			i += 2 + l
		}
		if n == 0 {
			return nil
		}
		var out []byte
		for k := 1; k <= n; k++ {
			if parts[byte(k)] == nil {
				t.Fatalf("ICC segment %d of %d missing", k, n)
			}
			out = append(out, parts[byte(k)]...)
		}
		return out
	case bytes.HasPrefix(b, []byte(pngSignature)):
		for i := 8; i+12 <= len(b); {
			l := int(binary.BigEndian.Uint32(b[i:]))
			if string(b[i+4:i+8]) == "iCCP" {
				_, rest, _ := bytes.Cut(b[i+8:i+8+l], []byte{0})
				zr, err := zlib.NewReader(bytes.NewReader(rest[1:]))
				if err != nil {
					t.Fatal(err)
				}
				p, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			i += 12 + l
		}
	case bytes.HasPrefix(b, []byte("RIFF")):
		for i := 12; i+8 <= len(b); {
			l := int(binary.LittleEndian.Uint32(b[i+4:]))
			if string(b[i:i+4]) == "ICCP" {
				return b[i+8 : i+8+l]
			}
			i += 8 + l + l&1
		}
	}
	return nil
}

// realICCFiles are the fixtures whose profiles phones and tools wrote:
// Apple's and Google's Display P3, Google's and HP's sRGB, Apple's
// ColorMatch RGB.
var realICCFiles = []string{
	"gainmap/apple_gainmap_new.jpg",
	"gainmap/pixel8pro-ultrahdr.jpg",
	"gainmap/small_uhdr.jpg",
	"motion/pixel-motion-photo-shortened.jpg",
	"orientation/pillow-xmp-orientation3.png",
}

// TestSanitizeICCRealProfiles checks that real profiles keep their colour
// exactly: every tag a colour management module reads is byte for byte the
// same, the header differs only in the fields made blank, the profile ID is
// the MD5 the specification defines, and sanitising twice changes nothing.
func TestSanitizeICCRealProfiles(t *testing.T) {
	for _, name := range realICCFiles {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			in := iccOf(t, b)
			if in == nil {
				t.Fatal("no ICC profile in the fixture")
			}
			orig, err := parseICC(in)
			if err != nil {
				t.Fatal(err)
			}
			hadID := !allZero(orig.b[iccProfileID : iccProfileID+16])
			if id := iccProfileIDOf(orig.b); hadID && !bytes.Equal(id[:], orig.b[iccProfileID:iccProfileID+16]) {
				t.Errorf("the fixture's profile ID %x is not the MD5 %x: iccProfileIDOf disagrees with its writer", orig.b[iccProfileID:iccProfileID+16], id)
			}
			out, err := sanitizeICC(in)
			if err != nil {
				t.Fatal(err)
			}
			p, err := parseICC(out)
			if err != nil {
				t.Fatalf("sanitised profile does not parse: %v", err)
			}
			if id := iccProfileIDOf(p.b); hadID != !allZero(p.b[iccProfileID:iccProfileID+16]) || hadID && !bytes.Equal(id[:], p.b[iccProfileID:iccProfileID+16]) {
				t.Errorf("profile ID %x, want the MD5 %x (had one: %v)", p.b[iccProfileID:iccProfileID+16], id, hadID)
			}
			blank := map[int]bool{}
			for _, f := range [][2]int{{iccCMM, 4}, {iccDateTime, 12}, {iccPlatform, 4}, {iccMfg, 8}, {iccCreator, 4}, {iccProfileID, 28}, {0, 4}} {
				for i := range f[1] {
					blank[f[0]+i] = true
				}
			}
			for i := range iccHeaderLen {
				if !blank[i] && out[i] != in[i] {
					t.Errorf("header byte %d changed: %#x -> %#x", i, in[i], out[i])
				}
			}
			got := map[string][]byte{}
			for _, tg := range p.tags {
				got[tg.sig] = p.data(tg)
			}
			colour := 0
			for _, tg := range orig.tags {
				d, typ := orig.data(tg), orig.tagType(tg)
				switch {
				case tg.sig == "desc" || tg.sig == "cprt":
					if string(got[tg.sig][:4]) != typ || iccTextValue(typ, got[tg.sig]) != iccNeutral {
						t.Errorf("%s = %q (%s), want %q as %s", tg.sig, iccTextValue(typ, got[tg.sig]), got[tg.sig][:4], iccNeutral, typ)
					}
				case iccColourTags[tg.sig]:
					colour++
					if !bytes.Equal(got[tg.sig], d) {
						t.Errorf("colour tag %s (%s) changed", tg.sig, typ)
					}
				case got[tg.sig] != nil:
					t.Errorf("tag %s (%s) kept", tg.sig, typ)
				}
			}
			if colour < 4 {
				t.Errorf("only %d colour tags in a real profile", colour)
			}
			if again, err := sanitizeICC(out); err != nil || !bytes.Equal(again, out) {
				t.Errorf("sanitising twice changes the profile (%v)", err)
			}
			if !iccClean(out) || iccClean(in) {
				t.Errorf("iccClean: sanitised %v, original %v", iccClean(out), iccClean(in))
			}
			rep := &Report{}
			scanICC(in, rep)
			if rep.Count(CatText) == 0 || rep.Count(CatDate) == 0 {
				t.Errorf("scan of the original profile: %v", rep.Findings)
			}
			rep = &Report{}
			scanICC(out, rep)
			if !rep.Clean() {
				t.Errorf("scan of the sanitised profile: %v", rep.Findings)
			}
		})
	}
}

// TestSanitizeICCCrafted checks the red team's profile, v2 and v4: nothing
// of its text, header fields or extra tags is left, and the colour tags are.
func TestSanitizeICCCrafted(t *testing.T) {
	for _, v := range []byte{2, 4} {
		in := craftedICC(v, 300)
		out, err := sanitizeICC(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range iccLeaks {
			if bytes.Contains(out, []byte(leak)) {
				t.Errorf("v%d: sanitised profile still holds %q", v, leak)
			}
		}
		p, err := parseICC(out)
		if err != nil {
			t.Fatal(err)
		}
		var sigs []string
		for _, tg := range p.tags {
			sigs = append(sigs, tg.sig)
		}
		if got := strings.Join(sigs, ","); got != "desc,cprt,wtpt,rXYZ,rTRC,gTRC" {
			t.Errorf("v%d: tags %s", v, got)
		}
		if p.tags[4].off != p.tags[5].off {
			t.Errorf("v%d: rTRC and gTRC no longer share their data", v)
		}
		if !iccClean(out) || iccClean(in) {
			t.Errorf("v%d: iccClean: sanitised %v, crafted %v", v, iccClean(out), iccClean(in))
		}
		rep := &Report{}
		scanICC(in, rep)
		for _, c := range []Category{CatText, CatDate, CatDevice} {
			if rep.Count(c) == 0 {
				t.Errorf("v%d: scan reports no %s in the crafted profile: %v", v, c, rep.Findings)
			}
		}
	}
}

// TestSanitizeICCMalformed: every truncation, and every tag table entry
// pointing outside the profile, is refused rather than half read.
func TestSanitizeICCMalformed(t *testing.T) {
	in := craftedICC(4, 10)
	for n := range len(in) {
		b := bytes.Clone(in[:n])
		if len(b) >= 4 {
			binary.BigEndian.PutUint32(b, uint32(n))
		}
		if _, err := sanitizeICC(b); err == nil {
			t.Errorf("profile cut to %d bytes accepted", n)
		}
	}
	for _, mod := range []func(b []byte){
		func(b []byte) { binary.BigEndian.PutUint32(b, uint32(len(b)+1)) },
		func(b []byte) { copy(b[36:], "xxxx") },
		func(b []byte) { binary.BigEndian.PutUint32(b[128:], 1<<30) },
		func(b []byte) { binary.BigEndian.PutUint32(b[132+4:], uint32(len(b)-4)) },
		func(b []byte) { binary.BigEndian.PutUint32(b[132+8:], 4) },
		func(b []byte) { binary.BigEndian.PutUint32(b[132+4:], 0xFFFFFFF0) },
		func(b []byte) { binary.BigEndian.PutUint32(b[132+4:], 64) },
	} {
		b := bytes.Clone(in)
		mod(b)
		if _, err := sanitizeICC(b); err == nil {
			t.Errorf("malformed profile accepted")
		}
	}
}

// FuzzICC feeds arbitrary profiles to the sanitiser and to scan, seeded
// with the real profiles of the fixtures and the crafted ones: no panic;
// an accepted profile comes out parseable, clean, unchanged by a second
// pass, with every colour tag's data intact; and scan reports a profile
// exactly when Strip would change it.
func FuzzICC(f *testing.F) {
	for _, name := range realICCFiles {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(iccOf(f, b))
		}
	}
	f.Add(craftedICC(2, 0))
	f.Add(craftedICC(4, 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep := &Report{}
		scanICC(b, rep)
		out, err := sanitizeICC(b)
		if err != nil {
			if rep.Clean() {
				t.Fatalf("scan reports nothing in a profile Strip drops: %v", err)
			}
			return
		}
		if rep.Clean() != bytes.Equal(out, b) {
			t.Fatalf("scan clean %v, but Strip changes the profile: %v", rep.Clean(), !bytes.Equal(out, b))
		}
		p, err := parseICC(out)
		if err != nil {
			t.Fatalf("sanitised profile does not parse: %v", err)
		}
		if again, err := sanitizeICC(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("sanitising twice changes the profile (%v)", err)
		}
		in, _ := parseICC(b)
		kept := map[string][]byte{}
		for _, tg := range p.tags {
			kept[tg.sig] = p.data(tg)
		}
		for _, tg := range in.tags {
			typ := in.tagType(tg)
			if iccColourTags[tg.sig] && !iccTextTypes[typ] && typ != "dict" && typ != "clrt" && kept[tg.sig] == nil {
				t.Fatalf("colour tag %s dropped", tg.sig)
			}
		}
	})
}

// TestICCOverlappingTags: a profile whose colour tags all point into one
// region, each at another offset, must not make sanitizeICC write the
// region once per tag (1,024 tags over a 16 MB profile would be 16 GB); it
// is refused as malformed, and dropped, at once.
func TestICCOverlappingTags(t *testing.T) {
	const n, region = 1000, 64 << 10
	tableEnd := iccTagTable + 4 + 12*n
	b := make([]byte, tableEnd+region)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	copy(b[iccSignature:], "acsp")
	binary.BigEndian.PutUint32(b[iccTagTable:], n)
	for i := tableEnd; i+4 <= len(b); i += 4 {
		copy(b[i:], "curv")
	}
	for i := range n {
		e := b[iccTagTable+4+12*i:]
		copy(e, "rTRC")
		binary.BigEndian.PutUint32(e[4:], uint32(tableEnd+4*i))
		binary.BigEndian.PutUint32(e[8:], uint32(region-4*i))
	}
	if _, err := parseICC(b); err != nil {
		t.Fatalf("the test profile does not parse: %v", err)
	}
	out, err := sanitizeICC(b)
	if err == nil {
		t.Fatalf("sanitised into %d bytes from %d", len(out), len(b))
	}
}
