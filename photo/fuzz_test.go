package photo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-photo/veil/internal/testphoto"
)

// fuzzSeeds adds the small real samples of one format as seeds. Crashers
// that go test -fuzz finds are kept in testdata/fuzz/<Target>/ and run as
// regression tests by every plain go test.
func fuzzSeeds(f *testing.F, format Format) {
	for _, s := range samples(f) {
		if len(s.data) < 16<<10 && bytes.HasPrefix(s.data, magic(format)) {
			f.Add(s.data)
		}
	}
	fixtures, _ := filepath.Glob(filepath.Join("..", "testdata", "photos", "*"))
	more, _ := filepath.Glob(filepath.Join("testdata", "orientation", "*"))
	gainMaps, _ := filepath.Glob(filepath.Join("testdata", "gainmap", "*.jpg"))
	more = append(more, gainMaps...)
	for _, p := range append(fixtures, more...) {
		if b, err := os.ReadFile(p); err == nil && bytes.HasPrefix(b, magic(format)) {
			f.Add(b)
		}
	}
}

func magic(f Format) []byte {
	switch f {
	case JPEG:
		return []byte{0xFF, 0xD8}
	case PNG:
		return []byte(pngSignature)
	}
	return []byte("RIFF")
}

// fuzzStrip checks the properties every input must have: no panic; and if
// Strip accepts the input, its output scans clean, keeps the orientation, and
// is a fixed point of Strip.
func fuzzStrip(t *testing.T, b []byte) {
	if err := stripProperties(b); err != nil {
		t.Fatal(err)
	}
}

func stripProperties(b []byte) error {
	rep, scanErr := Scan(bytes.NewReader(b), int64(len(b)))
	var buf bytes.Buffer
	res, err := Strip(&buf, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil
	}
	out := buf.Bytes()
	if scanErr != nil {
		// Scan and Strip walk the same structure; one may not accept what
		// the other rejects.
		return fmt.Errorf("strip accepted what scan rejected: %v", scanErr)
	}
	if res.Orientation != rep.Orientation {
		return fmt.Errorf("orientation %d kept, %d scanned", res.Orientation, rep.Orientation)
	}
	outRep, err := Scan(bytes.NewReader(out), int64(len(out)))
	if err != nil || !outRep.Clean() {
		return fmt.Errorf("stripped output: err %v, findings %v", err, outRep)
	}
	var again bytes.Buffer
	if _, err := Strip(&again, bytes.NewReader(out), int64(len(out))); err != nil || !bytes.Equal(again.Bytes(), out) {
		return fmt.Errorf("strip is not idempotent: %v", err)
	}
	return nil
}

func FuzzJPEG(f *testing.F) {
	fuzzSeeds(f, JPEG)
	f.Fuzz(fuzzStrip)
}

func FuzzPNG(f *testing.F) {
	fuzzSeeds(f, PNG)
	f.Fuzz(fuzzStrip)
}

func FuzzWebP(f *testing.F) {
	fuzzSeeds(f, WebP)
	f.Fuzz(fuzzStrip)
}

// FuzzHEIF is seeded with the HEIF and AVIF fixtures: a grid with its
// descriptor in idat, thumbnails that are grids with alpha planes, Exif and
// XMP items, iloc versions 0 and 1.
func FuzzHEIF(f *testing.F) {
	for _, b := range heifFixtures(f) {
		f.Add(b)
	}
	f.Fuzz(fuzzStrip)
}

// FuzzExif feeds arbitrary bytes to the EXIF reader through the minimal
// TIFF parser and goexif.
func FuzzExif(f *testing.F) {
	for _, s := range samples(f) {
		if m := testphoto.Metadata(s.data); len(m) > 0 {
			if i := bytes.Index(m, []byte(exifHeader)); i >= 0 {
				f.Add(m[i+len(exifHeader):])
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep := &Report{}
		scanExif(b, "EXIF", rep)
		if o := exifOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// FuzzXMPOrientation feeds arbitrary packets to the XMP orientation reader,
// seeded with the packets of the fixtures that declare their orientation
// only in XMP.
func FuzzXMPOrientation(f *testing.F) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "orientation", "*"))
	for _, p := range fixtures {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if i, j := bytes.Index(b, []byte("<x:xmpmeta")), bytes.LastIndex(b, []byte("</x:xmpmeta>")); i >= 0 && j > i {
			f.Add(b[i : j+len("</x:xmpmeta>")])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := xmpOrientation(b); o < 0 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// FuzzTIFF is seeded with Pillow's TIFF samples (strips, tiles, planar,
// multi-page, CCITT, LZW, deflate, JPEG) and the made ones: raw, BigTIFF and
// sub-IFDs, which are refused.
func FuzzTIFF(f *testing.F) {
	for _, b := range tiffFixtures(f) {
		if len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(fuzzStrip)
}

// FuzzGainMapXMP feeds arbitrary packets to the gain-map XMP reader, seeded
// with the packets of libavif's gain-map samples. What it accepts must come
// back unchanged through the packet veil writes, or the self-check would
// refuse veil's own output.
func FuzzGainMapXMP(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "gainmap", "*.jpg"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for rest := b; ; {
			i := bytes.Index(rest, []byte("<x:xmpmeta"))
			j := bytes.Index(rest, []byte("</x:xmpmeta>"))
			if i < 0 || j < i {
				break
			}
			f.Add(rest[i : j+len("</x:xmpmeta>")])
			rest = rest[j+1:]
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		props, ok := readGainMapXMP(b)
		if !ok {
			return
		}
		out := gainMapXMP(props)
		again, ok := readGainMapXMP(out[len(xmpID):])
		if !ok || !bytes.Equal(gainMapXMP(again), out) {
			t.Fatalf("written packet does not read back: %q", out)
		}
	})
}
