package photo

import (
	"bytes"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/veil-photo/veil/internal/testphoto"
)

// mpfSecondImage finds the second image of a JPEG through its MPF segment,
// as a gain-map-aware reader (Skia, libultrahdr) does.
func mpfSecondImage(t *testing.T, b []byte) []byte {
	t.Helper()
	j := newJPEGReader(bytes.NewReader(b))
	defer j.close()
	var mpf []byte
	var base int64
	j.soi()
	j.walk(jpegVisitor{segment: func(m byte, p []byte) error {
		if classifyJPEG(m, p) == segMPF && mpf == nil {
			mpf, base = bytes.Clone(p), j.off-int64(len(p))+int64(len(mpfID))
		}
		return nil
	}})
	_, size, off, ok := mpfEntries(mpf)
	if !ok || len(size) < 2 || base+int64(off[1])+int64(size[1]) > int64(len(b)) {
		t.Fatalf("no second image in MPF")
	}
	return b[base+int64(off[1]) : base+int64(off[1])+int64(size[1])]
}

// gainMapMeta is what a gain-map-aware reader takes from a gain map image:
// the hdrgm or Apple XMP parameters and the ISO 21496-1 segment.
type gainMapMeta struct {
	xmp []xmpProp
	iso []byte
}

// gainMapParams reads the gain map parameters from an image's leading
// metadata segments; it fails when there are none a reader could use.
func gainMapParams(t *testing.T, gm []byte) gainMapMeta {
	t.Helper()
	var g gainMapMeta
	meta := testphoto.Metadata(gm)
	for i := 0; i+4 <= len(meta); {
		m, n := meta[i+1], int(meta[i+2])<<8|int(meta[i+3])
		p := meta[i+4 : i+2+n]
		switch classifyJPEG(m, p) {
		case segXMP:
			props, ok := readGainMapXMP(p[len(xmpID):])
			if !ok {
				t.Fatal("gain map XMP has no gain map parameters")
			}
			g.xmp = props
		case segISOGainMap:
			if !isoGainMapOK(p) {
				t.Fatal("gain map ISO 21496-1 segment does not parse")
			}
			g.iso = bytes.Clone(p)
		}
		i += 2 + n
	}
	if g.xmp == nil && g.iso == nil {
		t.Fatal("gain map has neither XMP nor ISO 21496-1 parameters")
	}
	return g
}

// isoSegment returns the primary image's ISO 21496-1 segment, if any.
func isoSegment(b []byte) []byte {
	meta := testphoto.Metadata(b)
	for i := 0; i+4 <= len(meta); {
		m, n := meta[i+1], int(meta[i+2])<<8|int(meta[i+3])
		if p := meta[i+4 : i+2+n]; classifyJPEG(m, p) == segISOGainMap {
			return p
		}
		i += 2 + n
	}
	return nil
}

// TestGainMapKept runs the gain-map JPEGs of testdata/gainmap (a Pixel 8
// Pro Ultra HDR photo, iPhone, Photoshop and Camera Raw gain maps, hdrgm
// XMP, Apple XMP and ISO 21496-1) through Strip (issue 16.2): the gain map
// stays, found through the new MPF segment as a gain-map-aware reader finds
// it, with the same parameters (XMP properties, ISO 21496-1 segment byte for
// byte, and the primary's ISO version segment), the same tables and
// entropy-coded data byte for byte and the same decoded pixels; the primary
// decodes as before; the output scans clean; and exiftool finds nothing in
// the extracted gain map beyond its parameters.
func TestGainMapKept(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "gainmap", "*.jpg"))
	if len(files) < 7 {
		t.Fatalf("only %d gain-map samples", len(files))
	}
	dir := t.TempDir()
	for _, f := range files {
		name := filepath.Base(f)
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range scan(t, in).Findings {
			found = found || x.Category == CatTrailer && x.Name == "HDR gain map after end of image"
		}
		if !found {
			t.Errorf("%s: scan does not name the gain map", name)
		}
		out, res, err := strip(t, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !res.GainMap {
			t.Errorf("%s: gain map not kept; dropped %q", name, res.Dropped)
			continue
		}
		if rep := scan(t, out); !rep.Clean() {
			t.Errorf("%s: output findings %v", name, rep.Findings)
		}
		gin, gout := mpfSecondImage(t, in), mpfSecondImage(t, out)
		if !reflect.DeepEqual(gainMapParams(t, gin), gainMapParams(t, gout)) {
			t.Errorf("%s: gain map parameters changed", name)
		}
		if !bytes.Equal(isoSegment(in), isoSegment(out)) {
			t.Errorf("%s: primary's ISO 21496-1 segment %q, want %q", name, isoSegment(out), isoSegment(in))
		}
		if !bytes.Equal(gin[2+len(testphoto.Metadata(gin)):], gout[2+len(testphoto.Metadata(gout)):]) {
			t.Errorf("%s: gain map tables or image data changed", name)
		}
		p1, err1 := pixels(gin)
		p2, err2 := pixels(gout)
		if err1 != nil || err2 != nil || !bytes.Equal(p1.Pix, p2.Pix) {
			t.Errorf("%s: gain map pixels differ (%v, %v)", name, err1, err2)
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("%s: primary does not decode: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), gout, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("exiftool"); err == nil {
			exiftoolFindsGainMap(t, name, in, out, gout)
		}
	}
	if _, err := exec.LookPath("exiftool"); err == nil {
		if n := exiftoolLeaks(t, dir, len(files)); n != 0 {
			t.Errorf("exiftool finds %d tags in the kept gain maps", n)
		}
	}
}

// exiftoolFindsGainMap reads the gain map of the stripped file with an
// independent reader: exiftool follows the MPF segment to the second image
// (-MPImage2), which must be the very gain map found above, and reads the
// same gain map parameters from it (the hdrgm, Apple HDRGainMap and apdi
// XMP properties) as from the original's. ISO 21496-1 segments are compared
// byte for byte by TestGainMapKept: exiftool does not decode them.
func exiftoolFindsGainMap(t *testing.T, name string, in, out, gain []byte) {
	t.Helper()
	extract := func(b []byte) []byte {
		cmd := exec.Command("exiftool", "-b", "-MPImage2", "-")
		cmd.Stdin = bytes.NewReader(b)
		gm, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: exiftool -MPImage2: %v", name, err)
		}
		return gm
	}
	params := func(gm []byte) string {
		cmd := exec.Command("exiftool", "-s", "-XMP-hdrgm:all", "-XMP-HDRGainMap:all", "-XMP-apdi:all", "-")
		cmd.Stdin = bytes.NewReader(gm)
		p, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: exiftool on the gain map: %v", name, err)
		}
		return string(p)
	}
	gin, gout := extract(in), extract(out)
	if !bytes.Equal(gout, gain) {
		t.Errorf("%s: exiftool's second MPF image (%d bytes) is not the gain map (%d bytes)", name, len(gout), len(gain))
	}
	if pin, pout := params(gin), params(gout); pin != pout {
		t.Errorf("%s: exiftool reads other gain map parameters after strip:\n%s\nwant\n%s", name, pout, pin)
	} else {
		t.Logf("%s: exiftool reads the kept gain map's parameters:\n%s", name, pout)
	}
}
