package photo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestXMPOnlyOrientation checks photos whose orientation lives only in XMP
// tiff:Orientation (issue 16.1): Strip drops the XMP but keeps the
// orientation in its minimal Exif block, the pixels are unchanged, and
// exiftool reads the same orientation from IFD0 of the output as it read
// from XMP in the input. The PNGs are Pillow's samples (Tests/images/
// xmp_tags_orientation*.png: attribute and element forms); the JPEGs and the
// WebP were made with exiftool -XMP-tiff:Orientation#=N from the standard
// library's and x/image's test images, one with an Exif block that has no
// Orientation tag.
func TestXMPOnlyOrientation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file string
		want int
	}{
		{"pillow-xmp-orientation3.png", 3},
		{"pillow-xmp-orientation3-exiftool.png", 3},
		{"xmp-orientation6.jpg", 6},
		{"exif-xmp-orientation8.jpg", 8},
		{"xmp-orientation5.webp", 5},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "orientation", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := scan(t, in).Orientation; got != tc.want {
				t.Errorf("scan: orientation %d, want %d", got, tc.want)
			}
			out, res, err := strip(t, in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Orientation != tc.want {
				t.Errorf("strip kept orientation %d, want %d", res.Orientation, tc.want)
			}
			if rep := scan(t, out); !rep.Clean() || rep.Orientation != tc.want {
				t.Errorf("output: orientation %d, findings %v", rep.Orientation, rep.Findings)
			}
			if bytes.Contains(out, []byte("Orientation")) || bytes.Contains(out, []byte("Jane")) {
				t.Error("output still holds XMP")
			}
			p1, err1 := pixels(in)
			p2, err2 := pixels(out)
			if err1 != nil || err2 != nil || p1.Rect != p2.Rect || !bytes.Equal(p1.Pix, p2.Pix) {
				t.Errorf("decoded pixels differ (errors %v, %v)", err1, err2)
			}
			if _, err := exec.LookPath("exiftool"); err != nil {
				t.Skip("exiftool not installed: cross-check skipped")
			}
			p := filepath.Join(dir, tc.file)
			if err := os.WriteFile(p, out, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ file, group string }{{filepath.Join("testdata", "orientation", tc.file), "XMP-tiff"}, {p, "IFD0"}} {
				got, err := exec.Command("exiftool", "-s3", "-n", "-"+c.group+":Orientation", c.file).Output()
				if err != nil || strings.TrimSpace(string(got)) != string(rune('0'+tc.want)) {
					t.Errorf("exiftool reads %s:Orientation %q from %s (err %v), want %d", c.group, got, filepath.Base(filepath.Dir(c.file)), err, tc.want)
				}
			}
		})
	}
}

// TestXMPOrientationRules checks which orientation wins when a photo
// declares several, on small packets in both RDF forms.
func TestXMPOrientationRules(t *testing.T) {
	attr := func(v string) []byte {
		return []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" t:Orientation="` + v + `"/></rdf:RDF></x:xmpmeta>`)
	}
	elem := []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/"><tiff:Orientation> 7 </tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>`)
	wrongNS := []byte(`<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:tiff="http://example.com/" tiff:Orientation="6"/>`)
	for _, tc := range []struct {
		name   string
		packet []byte
		want   int
	}{
		{"attribute, other prefix", attr("6"), 6},
		{"element", elem, 7},
		{"out of range", attr("9"), 0},
		{"not a number", attr("six"), 0},
		{"other namespace", wrongNS, 0},
		{"not XML", []byte("Orientation=6"), 0},
	} {
		if got := xmpOrientation(tc.packet); got != tc.want {
			t.Errorf("%s: xmpOrientation = %d, want %d", tc.name, got, tc.want)
		}
	}
	var k keptOrientation
	k.xmp(attr("6"))
	if k.exif(minimalTIFF(3)) != 3 || k.flush() != 0 || k.value() != 3 {
		t.Error("an Exif orientation must win over XMP's")
	}
	k = keptOrientation{}
	k.xmp(attr("6"))
	k.exif(exifNoOrientation)
	if k.flush() != 6 || k.value() != 6 {
		t.Error("XMP's orientation must count when Exif has none")
	}
	k = keptOrientation{}
	k.xmp(attr("6"))
	tiff1 := minimalTIFF(1)
	if k.exif(tiff1) != 0 || k.flush() != 0 || k.value() != 1 {
		t.Error("an explicit Exif orientation 1 must win over XMP's")
	}
}

// exifNoOrientation is a TIFF structure whose IFD0 holds only Make.
var exifNoOrientation = []byte{
	'M', 'M', 0, 42, 0, 0, 0, 8,
	0, 1,
	0x01, 0x0F, 0, 2, 0, 0, 0, 2, 'X', 0, 0, 0, // Make, ASCII "X"
	0, 0, 0, 0,
}
