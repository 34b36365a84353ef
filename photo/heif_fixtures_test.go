package photo

import (
	"bytes"
	"encoding/binary"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var regenHEIF = flag.Bool("regen-heif", false, "rebuild the HEIF/AVIF fixtures in testdata/heif (needs heif-enc and exiftool)")

// heifDir holds the committed HEIF and AVIF fixtures.
var heifDir = filepath.Join("testdata", "heif")

// TestMakeHEIFFixtures rebuilds the fixtures with libheif's heif-enc (the
// coded images and the container around them) and exiftool (the Exif and
// XMP items, written as a phone's would be). heif-enc cannot write a grid
// or a rotation, so those are added here to the container, as an iPhone
// lays them out: a 'grid' item whose descriptor is in idat, hidden tiles,
// 'irot' on the primary image. Run with -regen-heif after changing it.
func TestMakeHEIFFixtures(t *testing.T) {
	if !*regenHEIF {
		t.Skip("run with -regen-heif to rebuild testdata/heif")
	}
	for _, tool := range []string{"heif-enc", "exiftool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: apt-get install libheif-examples libimage-exiftool-perl", tool)
		}
	}
	tmp := t.TempDir()
	src := func(name string, w, h, x0, y0 int, alpha bool) string {
		img := fixtureImage(256, 192, alpha).SubImage(image.Rect(x0, y0, x0+w, y0+h))
		p := filepath.Join(tmp, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	metadata := []string{"-overwrite_original", "-q",
		"-GPSLatitude=48.8566", "-GPSLatitudeRef=N", "-GPSLongitude=2.3522", "-GPSLongitudeRef=E",
		"-Make=Apple", "-Model=iPhone 15 Pro", "-SerialNumber=F2LXK4711", "-Software=17.4.1",
		"-DateTimeOriginal=2026:03:14 09:26:53", "-Artist=Jane Doe",
		"-XMP-dc:Creator=Jane Doe", "-XMP-dc:Description=Patient Smith before surgery"}
	full := src("full.png", 256, 192, 0, 0, false)
	out := func(name string) string { return filepath.Join(heifDir, name) }
	os.MkdirAll(heifDir, 0o755)

	// A phone photo: Exif with GPS, XMP, a thumbnail, rotated by irot.
	run("heif-enc", "-q", "60", "-t", "64", "-o", filepath.Join(tmp, "phone.heic"), full)
	editFixture(t, filepath.Join(tmp, "phone.heic"), out("phone-irot.heic"), addRotation)
	run("exiftool", append(metadata, out("phone-irot.heic"))...)

	// As an iPhone 13 Pro writes a portrait photo: stored landscape, turned
	// by irot 270° anti-clockwise, with Exif Orientation 6 saying the same
	// to readers that ignore irot.
	editFixture(t, filepath.Join(tmp, "phone.heic"), out("phone-irot270-exif6.heic"), addRotation270)
	run("exiftool", append(metadata, "-IFD0:Orientation#=6", out("phone-irot270-exif6.heic"))...)

	// An iPhone-style grid: a 2x2 grid of hidden 128x96 tiles, mirrored,
	// with a user description naming the patient.
	var tiles []string
	for i := range 4 {
		tiles = append(tiles, src(filepath.Join("tile"+string(rune('0'+i))+".png"), 128, 96, 128*(i%2), 96*(i/2), false))
	}
	run("heif-enc", append([]string{"-q", "60", "-o", filepath.Join(tmp, "grid.heic")}, tiles...)...)
	editFixture(t, filepath.Join(tmp, "grid.heic"), out("grid.heic"), addGrid)
	run("exiftool", append(metadata, out("grid.heic"))...)

	// Alpha: the image and its thumbnail each have an alpha plane.
	run("heif-enc", "-q", "60", "-t", "64", "-o", out("alpha.heic"), src("alpha.png", 256, 192, 0, 0, true))
	run("exiftool", append(metadata, out("alpha.heic"))...)

	// AVIF with a thumbnail, Exif and XMP.
	run("heif-enc", "-A", "-q", "60", "-t", "64", "-o", out("phone.avif"), full)
	run("exiftool", append(metadata, out("phone.avif"))...)
}

// fixtureImage is a gradient with some noise and a white bar near the top
// left, so that a wrong rotation would show.
func fixtureImage(w, h int, alpha bool) *image.NRGBA {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if alpha {
				a = uint8(64 + 191*x/w)
			}
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(120 + r.IntN(30)), a})
		}
	}
	for y := 10; y < 60; y++ {
		for x := 20; x < 30; x++ {
			img.Set(x, y, color.NRGBA{255, 255, 255, 255})
		}
	}
	return img
}

// editFixture rewrites a HEIF file with edit applied to its meta box,
// dropping nothing.
func editFixture(t *testing.T, in, out string, edit func(*heifMeta)) {
	t.Helper()
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHEIF(HEIF, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	edit(h.meta)
	var buf bytes.Buffer
	p := &heifPlan{drop: map[uint32]string{}, dropGroups: map[uint32]bool{}}
	for _, pr := range h.meta.props {
		p.props = append(p.props, pr.raw)
	}
	if err := h.write(&buf, bytes.NewReader(b), p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// addProp appends a property box to ipco and associates it with item id.
func addProp(m *heifMeta, id uint32, typ string, body []byte, essential bool) {
	var w boxWriter
	at := w.open(typ)
	w.raw(body)
	w.close(at)
	m.props = append(m.props, heifProp{typ: typ, raw: w.b, body: w.b[8:]})
	x := uint16(len(m.props))
	if essential {
		x |= 0x8000
	}
	for i := range m.ipmas[0].entries {
		if e := &m.ipmas[0].entries[i]; e.id == id {
			e.props = append(e.props, x)
			return
		}
	}
	m.ipmas[0].entries = append(m.ipmas[0].entries, heifAssoc{id: id, props: []uint16{x}})
}

// addRotation turns the primary image by 90° anticlockwise ('irot' angle 1,
// HEIF §6.5.10), as an iPhone held upright records it.
func addRotation(m *heifMeta) {
	addProp(m, m.primary, "irot", []byte{1}, true)
}

// addRotation270 turns the primary image 270° anti-clockwise (irot angle 3).
func addRotation270(m *heifMeta) {
	addProp(m, m.primary, "irot", []byte{3}, true)
}

// addGrid makes the four images heif-enc wrote the tiles of a new primary
// 'grid' item (HEIF §6.6.2.3) whose descriptor lives in idat.
func addGrid(m *heifMeta) {
	var tiles []uint32
	for _, it := range m.items {
		it.hidden = true
		tiles = append(tiles, it.id)
	}
	id := uint32(100)
	desc := []byte{0, 0, 1, 1} // version, flags (16-bit sizes), rows-1, columns-1
	desc = binary.BigEndian.AppendUint16(desc, 256)
	desc = binary.BigEndian.AppendUint16(desc, 192)
	grid := &heifItem{id: id, typ: "grid", located: true, inIdat: true,
		extents: []heifExtent{{int64(len(m.idat)), int64(len(desc))}}}
	m.idat = append(bytes.Clone(m.idat), desc...)
	m.hasIdat = true
	m.items = append(m.items, grid)
	m.byID[id] = grid
	m.located = append(m.located, id)
	m.ilocVersion = max(m.ilocVersion, 1)
	m.primary = id
	m.refs = append(m.refs, heifRef{typ: "dimg", from: id, to: tiles})
	addProp(m, id, "ispe", []byte{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 192}, false)
	addProp(m, id, "imir", []byte{0}, true)
	udes := append([]byte{0, 0, 0, 0}, "en\x00Jane Doe\x00patient, left cheek\x00face\x00"...)
	addProp(m, id, "udes", udes, false)
}
