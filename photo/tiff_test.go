package photo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tiffFixtures returns the TIFF samples of testdata/tiff by name.
func tiffFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "tiff", "*.*"))
	out := map[string][]byte{}
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	if len(out) < 15 {
		t.Fatalf("only %d TIFF fixtures", len(out))
	}
	return out
}

// tiffImageData returns each page's strips or tiles, concatenated.
func tiffImageData(t *testing.T, b []byte) [][]byte {
	t.Helper()
	tf, err := parseTIFF(bytes.NewReader(b), int64(len(b)), false)
	if err != nil {
		t.Fatal(err)
	}
	var pages [][]byte
	for _, p := range tf.pages {
		var d []byte
		for i, o := range p.offsets {
			d = append(d, b[o:o+p.counts[i]]...)
		}
		pages = append(pages, d)
	}
	return pages
}

// TestStripTIFF runs Pillow's TIFF samples and two made ones through Strip:
// every page is kept with its strips or tiles byte for byte, the pixels of
// the first page decode identically (golang.org/x/image/tiff), the output
// scans clean and is a fixed point, exiftool finds only image-structure
// tags, and BigTIFF, sub-IFDs and DNG are refused with a clear message.
func TestStripTIFF(t *testing.T) {
	refused := map[string]string{
		"hopper_bigtiff.tif":           "BigTIFF is not supported yet",
		"child_ifd.tiff":               "TIFF with sub-images (SubIFDs, as in NEF, ARW and other camera raw) is not supported yet",
		"made-nef-like-child_ifd.tiff": "NIKON CORPORATION camera raw (a TIFF-based raw such as NEF or ARW) is not supported yet; only JPEG, PNG, WebP, HEIC, AVIF and TIFF can be stripped",
		"made-dng-from-hopper_g4.dng":  "DNG camera raw is not supported yet; only JPEG, PNG, WebP, HEIC, AVIF and TIFF can be stripped",
	}
	outDir := t.TempDir()
	stripped, decoded := 0, 0
	for name, in := range tiffFixtures(t) {
		out, res, err := strip(t, in)
		if want, ok := refused[name]; ok {
			if err == nil || err.Error() != want || !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: err %v, want %q", name, err, want)
			}
			if _, err := Scan(bytes.NewReader(in), int64(len(in))); err == nil {
				t.Errorf("%s: scan accepts what strip refuses", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		stripped++
		rep := scan(t, in)
		if res.Orientation != rep.Orientation || res.Width != rep.Width || res.Width == 0 {
			t.Errorf("%s: strip says %dx%d orientation %d, scan %dx%d orientation %d", name, res.Width, res.Height, res.Orientation, rep.Width, rep.Height, rep.Orientation)
		}
		if r := scan(t, out); !r.Clean() || r.Orientation != rep.Orientation {
			t.Errorf("%s: output scans with orientation %d, findings %v", name, r.Orientation, r.Findings)
		}
		pin, pout := tiffImageData(t, in), tiffImageData(t, out)
		if len(pin) != len(pout) {
			t.Errorf("%s: %d pages in, %d out", name, len(pin), len(pout))
		}
		for i := range min(len(pin), len(pout)) {
			if !bytes.Equal(pin[i], pout[i]) {
				t.Errorf("%s: page %d's image data changed", name, i+1)
			}
		}
		p1, err1 := pixels(in)
		p2, err2 := pixels(out)
		switch {
		case err1 != nil && err2 != nil:
			t.Logf("%s: not decodable by Go (%v); image bytes compared only", name, err1)
		case err1 != nil || err2 != nil || p1.Rect != p2.Rect || !bytes.Equal(p1.Pix, p2.Pix):
			t.Errorf("%s: decoded pixels differ (%v, %v)", name, err1, err2)
		default:
			decoded++
		}
		if again, _, err := strip(t, out); err != nil || !bytes.Equal(again, out) {
			t.Errorf("%s: stripping the output again changed it (err %v)", name, err)
		}
		tf, err := os.CreateTemp(outDir, "file-*")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Strip(tf, bytes.NewReader(in), int64(len(in))); err != nil {
			t.Errorf("%s: strip to a file: %v", name, err)
		} else if got, _ := os.ReadFile(tf.Name()); !bytes.Equal(got, out) {
			t.Errorf("%s: strip to a file wrote different bytes", name)
		}
		tf.Close()
		os.Remove(tf.Name())
		for _, leak := range []string{"Jane", "IrfanView", "Photoshop", "Pixelmator", "xmpmeta", "2026"} {
			if bytes.Contains(out, []byte(leak)) {
				t.Errorf("%s: output still contains %q", name, leak)
			}
		}
		if err := os.WriteFile(filepath.Join(outDir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d TIFFs stripped, %d decoded identically, %d refused", stripped, decoded, len(refused))
	if decoded < stripped-2 {
		t.Errorf("only %d of %d stripped TIFFs could be compared pixel for pixel", decoded, stripped)
	}
	if n := exiftoolLeaks(t, outDir, stripped); n != 0 {
		t.Errorf("exiftool finds %d identifying tags in stripped TIFFs", n)
	}
}

// TestScanTIFF checks that Scan names what a TIFF carries.
func TestScanTIFF(t *testing.T) {
	rep := scan(t, tiffFixtures(t)["made-metadata-g4_orientation_1.tif"])
	for _, c := range []Category{CatGPS, CatDevice, CatText, CatOther} {
		if rep.Count(c) == 0 {
			t.Errorf("no %s finding: %v", c, rep.Findings)
		}
	}
	if rep := scan(t, tiffFixtures(t)["g4_orientation_6.tif"]); rep.Orientation != 6 || rep.Width != 88 {
		t.Errorf("g4_orientation_6.tif: %dx%d orientation %d", rep.Width, rep.Height, rep.Orientation)
	}
}

// TestTIFFRawRefused checks that colour-filter-array data, which only camera
// raw holds, is refused as raw, and that the refusal names it.
func TestTIFFRawRefused(t *testing.T) {
	in := bytes.Clone(tiffFixtures(t)["hopper_lzw.tif"])
	tf, err := parseTIFF(bytes.NewReader(in), int64(len(in)), false)
	if err != nil {
		t.Fatal(err)
	}
	e := tf.pages[0].entry(tagPhotometric)
	tf.bo.PutUint16(in[e.valOff:], 32803) // CFA
	_, _, err = strip(t, in)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Format != RAW || !strings.Contains(err.Error(), "camera raw") {
		t.Errorf("CFA TIFF: err %v, want a camera raw refusal", err)
	}
	// A camera's TIFF with sub-IFDs is how NEF and ARW look from outside.
	_, _, err = strip(t, tiffFixtures(t)["made-nef-like-child_ifd.tiff"])
	if !errors.As(err, &ue) || ue.Format != RAW || !strings.Contains(err.Error(), "NIKON CORPORATION camera raw") {
		t.Errorf("TIFF with Make and sub-IFDs: err %v, want a camera raw refusal", err)
	}
}
