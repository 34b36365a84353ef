package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// heifFixtures returns the committed HEIF and AVIF fixtures by name.
func heifFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(heifDir, "*"))
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	if len(out) < 4 {
		t.Fatalf("only %d HEIF fixtures in %s", len(out), heifDir)
	}
	return out
}

func mustParseHEIF(t testing.TB, b []byte) *heifFile {
	t.Helper()
	f, _ := sniff(b)
	h, err := parseHEIF(f, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// primaryProps returns the types of the properties of an item.
func primaryProps(m *heifMeta, id uint32) []string {
	var out []string
	for _, x := range m.propsOf(id) {
		if i := int(x & 0x7FFF); i > 0 {
			out = append(out, m.props[i-1].typ)
		}
	}
	return out
}

// TestStripHEIF strips every fixture and checks what must go, what must
// stay, and that every kept item's bytes are exactly the input's.
func TestStripHEIF(t *testing.T) {
	fixtures := heifFixtures(t)
	outDir := t.TempDir()
	for _, tc := range []struct {
		file        string
		format      Format
		w, h        int
		orientation int // from irot and imir
		exif        int // the Exif item's Orientation
		keepProps   []string
		mustFind    []Category
		mustDrop    []string
		dropped     int // items removed
	}{
		{"phone-irot.heic", HEIF, 256, 192, 8, 0, []string{"irot", "hvcC", "ispe"}, []Category{CatGPS, CatDate, CatDevice, CatText, CatThumbnail}, []string{"Exif", "XMP", "thumbnail"}, 4},
		{"phone-irot270-exif6.heic", HEIF, 256, 192, 6, 6, []string{"irot", "hvcC", "ispe"}, []Category{CatGPS, CatDate, CatDevice, CatText, CatThumbnail}, []string{"Exif", "XMP", "thumbnail"}, 4},
		{"grid.heic", HEIF, 256, 192, 2, 0, []string{"imir", "ispe"}, []Category{CatGPS, CatDate, CatDevice, CatText}, []string{"Exif", "XMP", "udes property"}, 2},
		{"alpha.heic", HEIF, 256, 192, 1, 0, []string{"hvcC", "ispe"}, []Category{CatGPS, CatThumbnail}, []string{"Exif", "XMP", "thumbnail", "part of a dropped item"}, 6},
		{"phone.avif", AVIF, 256, 192, 1, 0, []string{"av1C", "colr", "ispe"}, []Category{CatGPS, CatDate, CatDevice, CatText, CatThumbnail}, []string{"Exif", "XMP", "thumbnail"}, 3},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := fixtures[tc.file]
			rep := scan(t, in)
			for _, c := range tc.mustFind {
				if rep.Count(c) == 0 {
					t.Errorf("scan found no %s metadata: %v", c, rep.Findings)
				}
			}
			out, res, err := strip(t, in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Format != tc.format || res.Width != tc.w || res.Height != tc.h || res.Orientation != tc.orientation {
				t.Errorf("result %v %dx%d orientation %d, want %v %dx%d orientation %d", res.Format, res.Width, res.Height, res.Orientation, tc.format, tc.w, tc.h, tc.orientation)
			}
			if rep.Orientation != tc.orientation || rep.ExifOrientation != tc.exif {
				t.Errorf("scan: orientation %d, Exif's %d; want %d, %d", rep.Orientation, rep.ExifOrientation, tc.orientation, tc.exif)
			}
			checkDisplaySize(t, in, rep)
			if res.BytesOut != int64(len(out)) || res.BytesIn != int64(len(in)) {
				t.Errorf("byte counts %d/%d, want %d/%d", res.BytesIn, res.BytesOut, len(in), len(out))
			}
			dropped := strings.Join(res.Dropped, ",")
			for _, d := range tc.mustDrop {
				if !strings.Contains(dropped, d) {
					t.Errorf("dropped %q, want it to include %q", dropped, d)
				}
			}
			if r := scan(t, out); !r.Clean() || r.Width != tc.w {
				t.Errorf("scan of output: %dx%d, findings %v", r.Width, r.Height, r.Findings)
			}
			for _, leak := range []string{"Jane", "Doe", "Smith", "iPhone", "Apple", "F2LXK", "4711", "2026", "Exif", "xmpmeta", "cheek"} {
				if bytes.Contains(out, []byte(leak)) {
					t.Errorf("output still contains %q", leak)
				}
			}

			// Losslessness: every item left has exactly its input bytes,
			// and only metadata and thumbnail items are gone.
			hin, hout := mustParseHEIF(t, in), mustParseHEIF(t, out)
			if len(hin.meta.items)-len(hout.meta.items) != tc.dropped {
				t.Errorf("%d items in, %d out; want %d dropped", len(hin.meta.items), len(hout.meta.items), tc.dropped)
			}
			var droppedBytes int64
			for _, it := range hin.meta.items {
				ib, _, err := hin.itemBytes(bytes.NewReader(in), it, 1<<30)
				if err != nil {
					t.Fatal(err)
				}
				o := hout.meta.byID[it.id]
				if o == nil {
					droppedBytes += int64(len(ib))
					continue
				}
				ob, _, err := hout.itemBytes(bytes.NewReader(out), o, 1<<30)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ib, ob) || o.typ != it.typ || o.hidden != it.hidden {
					t.Errorf("item %d (%s): %d bytes in, %d out, equal %v", it.id, it.typ, len(ib), len(ob), bytes.Equal(ib, ob))
				}
				if slices.Contains([]string{"Exif", "mime", "uri "}, o.typ) {
					t.Errorf("item %d of type %q kept", o.id, o.typ)
				}
				if !slices.Equal(primaryProps(hin.meta, it.id), primaryProps(hout.meta, it.id)) {
					t.Errorf("item %d properties %v became %v", it.id, primaryProps(hin.meta, it.id), primaryProps(hout.meta, it.id))
				}
			}
			if hout.meta.primary != hin.meta.primary {
				t.Errorf("primary %d became %d", hin.meta.primary, hout.meta.primary)
			}
			for _, p := range tc.keepProps {
				if !slices.Contains(primaryProps(hout.meta, hout.meta.primary), p) {
					t.Errorf("primary image lost its %q property", p)
				}
			}
			for _, r := range hout.meta.refs {
				if r.typ == "thmb" || r.typ == "cdsc" {
					t.Errorf("%q reference kept", r.typ)
				}
			}
			if shrink := int64(len(in) - len(out)); shrink < droppedBytes {
				t.Errorf("file shrank by %d bytes, less than the %d bytes of the dropped items", shrink, droppedBytes)
			}

			// Into a file, the same bytes; and a fixed point.
			p := filepath.Join(outDir, strings.TrimSuffix(tc.file, filepath.Ext(tc.file))+res.Format.Ext())
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Strip(f, bytes.NewReader(in), int64(len(in))); err != nil {
				t.Errorf("strip to a file: %v", err)
			}
			f.Close()
			if got, _ := os.ReadFile(p); !bytes.Equal(got, out) {
				t.Errorf("strip to a file wrote different bytes")
			}
			if again, _, err := strip(t, out); err != nil || !bytes.Equal(again, out) {
				t.Errorf("stripping the output again changed it (err %v)", err)
			}
			comparePixels(t, in, out, tc.format)
		})
	}
	if n := exiftoolLeaks(t, outDir, 4); n != 0 {
		t.Errorf("(b) exiftool finds %d identifying tags in stripped HEIF files", n)
	}
}

// comparePixels decodes input and output with libheif's heif-convert and
// compares the pixels. The item bytes comparison above is the proof; this
// shows a decoder agrees. CI installs heif-convert; elsewhere the check is
// skipped, loudly.
func comparePixels(t *testing.T, in, out []byte, f Format) {
	if _, err := exec.LookPath("heif-convert"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("heif-convert is required in CI (apt-get install libheif-examples)")
		}
		t.Log("heif-convert not installed: pixels not compared")
		return
	}
	dir := t.TempDir()
	decode := func(name string, b []byte) []byte {
		src := filepath.Join(dir, name+f.Ext())
		dst := filepath.Join(dir, name+".png")
		if err := os.WriteFile(src, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if o, err := exec.Command("heif-convert", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("heif-convert %s: %v\n%s", name, err, o)
		}
		p, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		px, err := pixels(p)
		if err != nil {
			t.Fatal(err)
		}
		return px.Pix
	}
	if !bytes.Equal(decode("in", in), decode("out", out)) {
		t.Errorf("heif-convert decodes different pixels from input and output")
	}
}

// TestExiftoolCheckCanFailHEIF: exiftool must flag the unstripped HEIF
// fixtures, or the cross-check of stripped HEIF files proves nothing.
func TestExiftoolCheckCanFailHEIF(t *testing.T) {
	if n := exiftoolLeaks(t, heifDir, 0); n < 40 {
		t.Errorf("exiftool flags only %d tags in the unstripped HEIF fixtures", n)
	}
}

// heifBoundaries returns the offset of every box header in a HEIF file,
// top level and inside meta, with a few points inside each header.
func heifBoundaries(b []byte) []int {
	var cuts []int
	var walk func(off, end int, depth int)
	walk = func(off, end int, depth int) {
		for off+8 <= end && depth < 6 {
			n := int(binary.BigEndian.Uint32(b[off:]))
			typ := string(b[off+4 : off+8])
			if n < 8 || off+n > end {
				return
			}
			cuts = append(cuts, off, off+4, off+8, off+n/2)
			body := off + 8
			switch typ {
			case "meta":
				walk(body+4, off+n, depth+1)
			case "iprp", "ipco", "dinf", "grpl":
				walk(body, off+n, depth+1)
			case "iinf":
				if b[body] == 0 {
					walk(body+6, off+n, depth+1)
				} else {
					walk(body+8, off+n, depth+1)
				}
			case "iref":
				walk(body+4, off+n, depth+1)
			}
			off += n
		}
	}
	walk(0, len(b), 0)
	return cuts
}

// TestHEIFTruncated cuts every fixture at each box boundary and at random
// points: every cut must be refused, never panic.
func TestHEIFTruncated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for name, b := range heifFixtures(t) {
		cuts := heifBoundaries(b)
		for range 50 {
			cuts = append(cuts, r.IntN(len(b)))
		}
		for _, cut := range cuts {
			if cut >= len(b) {
				continue
			}
			if _, _, err := strip(t, b[:cut]); err == nil {
				t.Errorf("%s cut at %d of %d: no error", name, cut, len(b))
			}
			Scan(bytes.NewReader(b[:cut]), int64(cut))
		}
	}
}

// TestHEIFLyingSizes sets every box size field to values that lie: huge,
// past the end, smaller than a header, 0 (to the end) and 1 (a largesize
// follows). Nothing may panic or allocate from the lie.
func TestHEIFLyingSizes(t *testing.T) {
	for name, b := range heifFixtures(t) {
		for _, at := range heifBoundaries(b) {
			if at+4 > len(b) {
				continue
			}
			orig := binary.BigEndian.Uint32(b[at:])
			for _, v := range []uint32{0x7FFFFFFF, 0xFFFFFFFF, uint32(len(b)) + 1, orig + 1, orig - 1, 7, 1, 0} {
				c := bytes.Clone(b)
				binary.BigEndian.PutUint32(c[at:], v)
				checkBounded(t, fmt.Sprintf("%s size at %d = %#x", name, at, v), c)
			}
		}
	}
}

// checkBounded strips and scans hostile input: no panic, and memory use
// bounded by the input, not by what its fields claim.
func checkBounded(t *testing.T, what string, b []byte) {
	t.Helper()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	Scan(bytes.NewReader(b), int64(len(b)))
	_, _, err := strip(t, b)
	runtime.ReadMemStats(&m1)
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 8<<20+40*uint64(len(b)) {
		t.Errorf("%s: %d bytes allocated for a %d-byte input", what, a, len(b))
	}
	if err == nil {
		// An accepted mutation must still hold up.
		if perr := stripProperties(b); perr != nil {
			t.Errorf("%s: %v", what, perr)
		}
	}
}

// remeta rebuilds a fixture with its meta box edited, keeping the original
// offsets: the old meta becomes a free box in place, and the new one, with
// extents given in file coordinates, goes at the end of the file.
func remeta(t *testing.T, in []byte, edit func(m *heifMeta, l *heifLayout)) []byte {
	t.Helper()
	h := mustParseHEIF(t, in)
	m := h.meta
	l := &heifLayout{offSize: 8, lenSize: 8, ext: map[uint32][]heifExtent{}, idat: m.idat}
	for _, id := range m.located {
		l.ext[id] = slices.Clone(m.byID[id].extents)
	}
	edit(m, l)
	p := &heifPlan{drop: map[uint32]string{}, dropGroups: map[uint32]bool{}}
	for _, pr := range m.props {
		p.props = append(p.props, pr.raw)
	}
	out := bytes.Clone(in)
	copy(out[h.metaBox.start+4:], "free")
	return append(out, m.build(p, l)...)
}

// itemOfType returns the first item of a type.
func itemOfType(m *heifMeta, typ string) *heifItem {
	for _, it := range m.items {
		if it.typ == typ {
			return it
		}
	}
	return nil
}

// TestHEIFRefused: what Strip cannot rewrite safely is refused with a
// FormatError or an UnsupportedError that says why, never half-stripped.
func TestHEIFRefused(t *testing.T) {
	fx := heifFixtures(t)
	phone, grid := fx["phone-irot.heic"], fx["grid.heic"]
	moov := append(bytes.Clone(phone), 0, 0, 0, 8, 'm', 'o', 'o', 'v')
	huge := func(b []byte, box string, at int, v uint32) []byte {
		c := bytes.Clone(b)
		i := bytes.Index(c, []byte(box))
		binary.BigEndian.PutUint32(c[i+4+at:], v)
		return c
	}
	exifID := itemOfType(mustParseHEIF(t, phone).meta, "Exif").id
	for _, tc := range []struct {
		name        string
		in          []byte
		unsupported bool
		msg         string
	}{
		{"image sequence", moov, true, "image sequence"},
		{"mini", append(phone[:len(phone):len(phone)], 0, 0, 0, 8, 'm', 'i', 'n', 'i'), true, "compact"},
		{"remeta works", remeta(t, phone, func(*heifMeta, *heifLayout) {}), false, ""},
		{"extent past the end", remeta(t, phone, func(m *heifMeta, l *heifLayout) {
			l.ext[m.primary][0].off = int64(len(phone)) + 100
		}), false, "runs past the end"},
		{"overlapping extents", remeta(t, phone, func(m *heifMeta, l *heifLayout) {
			l.ext[exifID][0].off = l.ext[m.primary][0].off + 1
		}), false, "share bytes"},
		{"shared extent", remeta(t, grid, func(m *heifMeta, l *heifLayout) {
			tiles := m.refs[slices.IndexFunc(m.refs, func(r heifRef) bool { return r.typ == "dimg" })].to
			l.ext[tiles[1]] = l.ext[tiles[0]]
		}), false, "share bytes"},
		{"primary is Exif", remeta(t, phone, func(m *heifMeta, l *heifLayout) { m.primary = exifID }), false, "not an image"},
		// A JPEG codestream carries its own APPn metadata, copied byte for
		// byte if kept.
		{"primary is a JPEG item", remeta(t, phone, func(m *heifMeta, l *heifLayout) { m.byID[m.primary].typ = "jpeg" }), false, "not an image"},
		{"grid of Exif", remeta(t, grid, func(m *heifMeta, l *heifLayout) {
			i := slices.IndexFunc(m.refs, func(r heifRef) bool { return r.typ == "dimg" })
			m.refs[i].to[0] = itemOfType(m, "Exif").id
		}), true, "derived from"},
		{"essential unknown property", remeta(t, phone, func(m *heifMeta, l *heifLayout) {
			addProp(m, m.primary, "xyzw", []byte{1, 2, 3}, true)
		}), true, "unknown property"},
		{"duplicate item", remeta(t, phone, func(m *heifMeta, l *heifLayout) {
			m.items = append(m.items, &heifItem{id: m.primary, typ: "hvc1"})
		}), false, "declared twice"},
		{"undeclared item", remeta(t, phone, func(m *heifMeta, l *heifLayout) {
			m.located = append(m.located, 999)
			m.byID[999] = &heifItem{id: 999}
			l.ext[999] = []heifExtent{{0, 1}}
		}), false, "does not declare"},
		{"not pict", notPict(remeta(t, phone, func(*heifMeta, *heifLayout) {})), true, "handler"},
		{"too many items", remeta(t, phone, func(m *heifMeta, l *heifLayout) {
			for i := range uint32(maxHEIFItems) {
				m.items = append(m.items, &heifItem{id: 100000 + i, typ: "hvc1"})
			}
		}), false, "more than 65536 items"},
		{"iloc item count", huge(phone, "iloc", 6, 0xFFFF0000), false, "does not fit"},
		{"ipma entry count", huge(phone, "ipma", 4, 0xFFFFFFFF), false, "does not fit"},
		{"iref count", huge(phone, "thmb", 2, 0xFFFF0000), false, "does not fit"},
		{"no meta", append(bytes.Clone(phone[:binary.BigEndian.Uint32(phone)]), 0, 0, 0, 8, 'm', 'd', 'a', 't'), false, "no meta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, _, err := strip(t, in)
			if tc.name == "remeta works" {
				if err != nil {
					t.Fatalf("the unedited rebuild is refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FormatError
			switch {
			case tc.unsupported && !errors.Is(err, ErrUnsupported):
				t.Errorf("error %v is not an UnsupportedError", err)
			case !tc.unsupported && !errors.As(err, &fe):
				t.Errorf("error %v is not a FormatError", err)
			case !strings.Contains(err.Error(), tc.msg):
				t.Errorf("error %q does not say %q", err, tc.msg)
			case strings.Contains(err.Error(), "\n"):
				t.Errorf("error %q is not one line", err)
			}
			if _, serr := Scan(bytes.NewReader(in), int64(len(in))); serr == nil {
				t.Errorf("scan accepted what strip refused")
			}
		})
	}
}

// notPict changes the handler of the last meta box in b from pict to vide.
func notPict(b []byte) []byte {
	c := bytes.Clone(b)
	copy(c[bytes.LastIndex(c, []byte("pict")):], "vide")
	return c
}

// iphoneItem is one item of a synthetic iPhone-style HEIC.
type iphoneItem struct {
	id      uint32
	typ     string
	hidden  bool
	ct      string // content type of a mime item
	data    []byte
	inIdat  bool
	dataRef uint16
	props   []uint16 // 1-based ipco indexes, bit 15 for essential
}

// iphoneHEIC builds, box by box and independently of Strip's writer, a
// HEIC laid out as recent iPhones write them: a grid primary of rows x cols
// hidden hvc1 tiles, each stored in two extents after an iloc base offset;
// an irot; a thumbnail; Exif (with the "Exif\0\0" prefix its header offset
// skips) and XMP describing the primary; a depth map and an HDR gain map,
// each auxiliary with its own XMP; an ISO 21496-1 tone-map item in an
// 'altr' group; a named handler and named items; ipma with 16-bit indexes;
// a data reference; free and uuid boxes and a second mdat.
func iphoneHEIC(t testing.TB, rows, cols, tileBytes int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	phone := heifFixtures(t)["phone-irot.heic"]
	h := mustParseHEIF(t, phone)
	exif, _, _ := h.itemBytes(bytes.NewReader(phone), itemOfType(h.meta, "Exif"), 1<<20)
	exif = append([]byte{0, 0, 0, 6, 'E', 'x', 'i', 'f', 0, 0}, exif[4+binary.BigEndian.Uint32(exif):]...)
	xmp := []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Jane Doe</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`)

	prop := func(typ string, body []byte) []byte {
		var w boxWriter
		at := w.open(typ)
		w.raw(body)
		w.close(at)
		return w.b
	}
	full := func(s string) []byte { return append([]byte{0, 0, 0, 0}, s...) }
	ispe := func(w, h uint32) []byte {
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, w), h)
	}
	props := [][]byte{
		prop("hvcC", blob(100)),                                           // 1 tiles
		prop("ispe", ispe(512, 512)),                                      // 2
		prop("ispe", ispe(uint32(cols*512), uint32(rows*512))),            // 3 grid
		prop("irot", []byte{3}),                                           // 4
		prop("colr", append([]byte("nclx"), 0, 12, 0, 13, 0, 1, 0x80)),    // 5
		prop("hvcC", blob(90)),                                            // 6 thumbnail
		prop("ispe", ispe(320, 240)),                                      // 7
		prop("auxC", full("urn:mpeg:hevc:2015:auxid:2\x00")),              // 8 depth
		prop("auxC", full("urn:com:apple:photo:2020:aux:hdrgainmap\x00")), // 9
		prop("pixi", []byte{0, 0, 0, 0, 3, 8, 8, 8}),                      // 10
		prop("udes", full("en\x00Jane Doe\x00left cheek\x00\x00")),        // 11
	}
	var items []iphoneItem
	var tiles []uint32
	for i := range rows * cols {
		id := uint32(1 + i)
		tiles = append(tiles, id)
		items = append(items, iphoneItem{id: id, typ: "hvc1", hidden: true, data: blob(tileBytes), props: []uint16{0x8001, 2}})
	}
	grid := append([]byte{0, 0, byte(rows - 1), byte(cols - 1)}, binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, uint16(cols*512)), uint16(rows*512))...)
	const gridID, thumb, exifID, xmpID, depth, depthXMP, gain, gainXMP, tmap = 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008
	items = append(items,
		iphoneItem{id: gridID, typ: "grid", data: grid, inIdat: true, props: []uint16{3, 0x8004, 5, 10, 11}},
		iphoneItem{id: thumb, typ: "hvc1", data: blob(3000), props: []uint16{0x8006, 7, 0x8004}},
		iphoneItem{id: exifID, typ: "Exif", hidden: true, data: exif, dataRef: 1},
		iphoneItem{id: xmpID, typ: "mime", hidden: true, ct: "application/rdf+xml", data: xmp},
		iphoneItem{id: depth, typ: "hvc1", hidden: true, data: blob(5000), props: []uint16{0x8001, 7, 0x8008}},
		iphoneItem{id: depthXMP, typ: "mime", hidden: true, ct: "application/rdf+xml", data: xmp},
		iphoneItem{id: gain, typ: "hvc1", hidden: true, data: blob(7000), props: []uint16{0x8001, 7, 0x8009}},
		iphoneItem{id: gainXMP, typ: "mime", hidden: true, ct: "application/rdf+xml", data: xmp},
		iphoneItem{id: tmap, typ: "tmap", data: blob(60), props: []uint16{3}},
	)
	refs := []heifRef{
		{"dimg", gridID, tiles}, {"thmb", thumb, []uint32{gridID}},
		{"cdsc", exifID, []uint32{gridID}}, {"cdsc", xmpID, []uint32{gridID}},
		{"auxl", depth, []uint32{gridID}}, {"cdsc", depthXMP, []uint32{depth}},
		{"auxl", gain, []uint32{gridID}}, {"cdsc", gainXMP, []uint32{gain}},
		{"dimg", tmap, []uint32{gridID, gain}},
	}

	// Layout: ftyp, meta, free, mdat (images), uuid, mdat (metadata).
	var ftyp boxWriter
	at := ftyp.open("ftyp")
	ftyp.raw([]byte("heic\x00\x00\x00\x00mif1MiHEMiPrmiafMiHBheictmap"))
	ftyp.close(at)
	meta := func(imagesAt, metaAt int64) []byte {
		var w boxWriter
		m := w.openFull("meta", 0, 0)
		hd := w.openFull("hdlr", 0, 0)
		w.u32(0)
		w.raw([]byte("pict"))
		w.raw(make([]byte, 12))
		w.raw([]byte("Apple Image Handler\x00"))
		w.close(hd)
		di := w.open("dinf")
		dr := w.openFull("dref", 0, 0)
		w.u32(1)
		w.close(w.openFull("url ", 0, 1))
		w.close(dr)
		w.close(di)
		pm := w.openFull("pitm", 0, 0)
		w.u16(gridID)
		w.close(pm)
		ii := w.openFull("iinf", 0, 0)
		w.u16(uint16(len(items)))
		for _, it := range items {
			var flags uint32
			if it.hidden {
				flags = 1
			}
			e := w.openFull("infe", 2, flags)
			w.u16(uint16(it.id))
			w.u16(0)
			w.raw([]byte(it.typ))
			w.raw([]byte("Jane's photo\x00"))
			if it.typ == "mime" {
				w.raw([]byte(it.ct + "\x00"))
			}
			w.close(e)
		}
		w.close(ii)
		ir := w.openFull("iref", 0, 0)
		for _, rf := range refs {
			b := w.open(rf.typ)
			w.u16(uint16(rf.from))
			w.u16(uint16(len(rf.to)))
			for _, to := range rf.to {
				w.u16(uint16(to))
			}
			w.close(b)
		}
		w.close(ir)
		ip := w.open("iprp")
		ic := w.open("ipco")
		for _, p := range props {
			w.raw(p)
		}
		w.close(ic)
		ma := w.openFull("ipma", 0, 1)
		n := 0
		for _, it := range items {
			if len(it.props) > 0 {
				n++
			}
		}
		w.u32(uint32(n))
		for _, it := range items {
			if len(it.props) == 0 {
				continue
			}
			w.u16(uint16(it.id))
			w.u8(uint8(len(it.props)))
			for _, x := range it.props {
				w.u16(x)
			}
		}
		w.close(ma)
		w.close(ip)
		// iloc version 1: 4-byte offsets, lengths and base offsets.
		lo := w.openFull("iloc", 1, 0)
		w.u16(0x4440)
		w.u16(uint16(len(items)))
		img, md, idat := int64(0), int64(0), int64(0)
		for _, it := range items {
			w.u16(uint16(it.id))
			n := int64(len(it.data))
			switch {
			case it.inIdat:
				w.u16(1)
				w.u16(0)
				w.u32(0)
				w.u16(1)
				w.u32(uint32(idat))
				w.u32(uint32(n))
				idat += n
			case it.typ == "Exif" || it.typ == "mime":
				w.u16(0)
				w.u16(it.dataRef)
				w.u32(uint32(metaAt))
				w.u16(1)
				w.u32(uint32(md))
				w.u32(uint32(n))
				md += n
			default: // two extents each, as big tiles are
				w.u16(0)
				w.u16(0)
				w.u32(uint32(imagesAt))
				w.u16(2)
				w.u32(uint32(img))
				w.u32(uint32(n / 2))
				w.u32(uint32(img + n/2))
				w.u32(uint32(n - n/2))
				img += n
			}
		}
		w.close(lo)
		id := w.open("idat")
		for _, it := range items {
			if it.inIdat {
				w.raw(it.data)
			}
		}
		w.close(id)
		gl := w.open("grpl")
		g := w.openFull("altr", 0, 0)
		w.u32(2000)
		w.u32(2)
		w.u32(tmap)
		w.u32(gridID)
		w.close(g)
		w.close(gl)
		w.close(m)
		return w.b
	}
	box := func(typ string, body []byte) []byte { return prop(typ, body) }
	var images, metadata []byte
	for _, it := range items {
		switch {
		case it.inIdat:
		case it.typ == "Exif" || it.typ == "mime":
			metadata = append(metadata, it.data...)
		default:
			images = append(images, it.data...)
		}
	}
	free := box("free", make([]byte, 100))
	uuid := box("uuid", append(blob(16), "Jane Doe"...))
	metaLen := int64(len(meta(0, 0)))
	imagesAt := int64(len(ftyp.b)) + metaLen + int64(len(free)) + 8
	metaAt := imagesAt + int64(len(images)) + int64(len(uuid)) + 8
	out := slices.Concat(ftyp.b, meta(imagesAt, metaAt), free, box("mdat", images), uuid, box("mdat", metadata))
	if int64(len(meta(imagesAt, metaAt))) != metaLen {
		t.Fatal("meta size depends on offsets")
	}
	return out
}

// TestStripIPhoneLayout strips the synthetic iPhone HEIC: the grid, its
// tiles, the depth and gain maps and the tone-map item stay, byte for byte;
// the thumbnail, Exif and the three XMP items go, with their bytes.
func TestStripIPhoneLayout(t *testing.T) {
	in := iphoneHEIC(t, 3, 4, 2000)
	rep := scan(t, in)
	for _, c := range []Category{CatGPS, CatDevice, CatDate, CatText, CatThumbnail, CatOther} {
		if rep.Count(c) == 0 {
			t.Errorf("scan found no %s: %v", c, rep.Findings)
		}
	}
	out, res, err := strip(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 2048 || res.Height != 1536 {
		t.Errorf("size %dx%d, want the grid's 2048x1536", res.Width, res.Height)
	}
	if r := scan(t, out); !r.Clean() {
		t.Errorf("output findings: %v", r.Findings)
	}
	for _, leak := range []string{"Jane", "Apple", "cheek", "xmpmeta", "Exif"} {
		if bytes.Contains(out, []byte(leak)) {
			t.Errorf("output still contains %q", leak)
		}
	}
	hin, hout := mustParseHEIF(t, in), mustParseHEIF(t, out)
	var kept []uint32
	for _, it := range hout.meta.items {
		kept = append(kept, it.id)
		a, _, _ := hin.itemBytes(bytes.NewReader(in), hin.meta.byID[it.id], 1<<30)
		b, _, _ := hout.itemBytes(bytes.NewReader(out), it, 1<<30)
		if !bytes.Equal(a, b) {
			t.Errorf("item %d (%s) changed", it.id, it.typ)
		}
	}
	slices.Sort(kept)
	want := []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1000, 1004, 1006, 1008}
	if !slices.Equal(kept, want) {
		t.Errorf("kept items %v, want %v", kept, want)
	}
	if !slices.Contains(primaryProps(hout.meta, 1000), "irot") || len(hout.meta.groups) != 1 {
		t.Errorf("irot or the altr group lost: %v, %d groups", primaryProps(hout.meta, 1000), len(hout.meta.groups))
	}
	if len(hout.dropped) != 0 || len(hout.mdats) != 1 {
		t.Errorf("output has %d extra boxes and %d mdats", len(hout.dropped), len(hout.mdats))
	}
	if again, _, err := strip(t, out); err != nil || !bytes.Equal(again, out) {
		t.Errorf("not a fixed point: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "iphone.heic"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := exiftoolLeaks(t, dir, 1); n != 0 {
		t.Errorf("exiftool finds %d tags", n)
	}
}

// TestHEIFReferenceGraphLinear: a long chain of items each attached to the
// next, ending at a thumbnail, is planned in linear time.
func TestHEIFReferenceGraphLinear(t *testing.T) {
	m := &heifMeta{f: HEIF, byID: map[uint32]*heifItem{}, primary: 1}
	const n = 50000
	for i := uint32(1); i <= n; i++ {
		it := &heifItem{id: i, typ: "hvc1"}
		m.items = append(m.items, it)
		m.byID[i] = it
		if i > 2 {
			m.refs = append(m.refs, heifRef{typ: "auxl", from: i, to: []uint32{i - 1}})
		}
	}
	m.refs = append(m.refs, heifRef{typ: "thmb", from: 2, to: []uint32{1}})
	p, err := m.plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.drop) != n-1 {
		t.Errorf("%d dropped, want %d", len(p.drop), n-1)
	}
}

// checkDisplaySize compares the size Scan says a HEIF displays at with the
// size libheif's heif-info gives the primary image once irot and imir are
// applied, when heif-info is installed.
func checkDisplaySize(t *testing.T, in []byte, rep *Report) {
	t.Helper()
	if _, err := exec.LookPath("heif-info"); err != nil {
		t.Log("heif-info not installed: display size not cross-checked")
		return
	}
	p := filepath.Join(t.TempDir(), "in.heic")
	if err := os.WriteFile(p, in, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("heif-info", p).Output()
	if err != nil {
		t.Fatalf("heif-info: %v", err)
	}
	m := regexp.MustCompile(`image: (\d+)x(\d+) \(id=\d+\), primary`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("heif-info names no primary image:\n%s", out)
	}
	w, h := rep.DisplaySize()
	if got := fmt.Sprintf("%dx%d", w, h); got != string(m[1])+"x"+string(m[2]) {
		t.Errorf("scan says it displays at %s, heif-info at %sx%s", got, m[1], m[2])
	}
}
