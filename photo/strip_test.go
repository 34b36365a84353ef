package photo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/veil-photo/veil/internal/testphoto"
)

func strip(t testing.TB, in []byte) ([]byte, *Result, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := Strip(&out, bytes.NewReader(in), int64(len(in)))
	return out.Bytes(), res, err
}

func scan(t testing.TB, in []byte) *Report {
	t.Helper()
	rep, err := Scan(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return rep
}

// pixels decodes an image into 16-bit RGBA so that two decodes compare
// exactly.
var pixels = testphoto.Pixels

// TestStripSamples runs every real sample through Strip and checks that the
// result (a) carries no metadata by veil's own scan, (c) decodes to exactly
// the same pixels, (d) keeps the orientation, and is a fixed point: stripping
// it again changes nothing. Check (b), exiftool, runs over the same outputs.
func TestStripSamples(t *testing.T) {
	outDir := t.TempDir()
	found, decoded := 0, 0
	for i, s := range samples(t) {
		in := scan(t, s.data)
		found += len(in.Findings)
		out, res, err := strip(t, s.data)
		if err != nil {
			t.Errorf("%s: strip: %v", s.name, err)
			continue
		}
		if rep := scan(t, out); !rep.Clean() {
			t.Errorf("%s: (a) scan of output found %v", s.name, rep.Findings)
		}
		if res.Orientation != in.Orientation || scan(t, out).Orientation != in.Orientation {
			t.Errorf("%s: (d) orientation %d in, %d kept, %d read back", s.name, in.Orientation, res.Orientation, scan(t, out).Orientation)
		}
		if res.Width != in.Width || res.Height != in.Height || res.Width == 0 {
			t.Errorf("%s: size %dx%d, scan says %dx%d", s.name, res.Width, res.Height, in.Width, in.Height)
		}
		if res.BytesOut != int64(len(out)) || res.BytesIn != int64(len(s.data)) {
			t.Errorf("%s: byte counts %d/%d, want %d/%d", s.name, res.BytesIn, res.BytesOut, len(s.data), len(out))
		}
		p1, err1 := pixels(s.data)
		p2, err2 := pixels(out)
		switch {
		case err1 != nil && err2 != nil:
			t.Logf("%s: not decodable by Go (%v); pixels not compared", s.name, err1)
		case err1 != nil || err2 != nil:
			t.Errorf("%s: (c) decode in: %v, out: %v", s.name, err1, err2)
		case p1.Rect != p2.Rect || !bytes.Equal(p1.Pix, p2.Pix):
			t.Errorf("%s: (c) decoded pixels differ", s.name)
		default:
			decoded++
		}
		// Into a file, the self-check reads back what the file holds: the
		// result must be the same bytes.
		tf, err := os.CreateTemp(outDir, "file-*")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Strip(tf, bytes.NewReader(s.data), int64(len(s.data))); err != nil {
			t.Errorf("%s: strip to a file: %v", s.name, err)
		} else if got, _ := os.ReadFile(tf.Name()); !bytes.Equal(got, out) {
			t.Errorf("%s: strip to a file wrote different bytes", s.name)
		}
		tf.Close()
		os.Remove(tf.Name())
		again, _, err := strip(t, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Errorf("%s: stripping the output again changed it (err %v)", s.name, err)
		}
		name := fmt.Sprintf("%03d-%s%s", i, strings.NewReplacer("/", "_", "+", "_", ".", "_").Replace(s.name), res.Format.Ext())
		if err := os.WriteFile(filepath.Join(outDir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d samples, %d decoded identically, %d findings removed", len(samples(t)), decoded, found)
	if decoded < len(samples(t))*9/10 {
		t.Errorf("only %d of %d samples could be compared pixel for pixel", decoded, len(samples(t)))
	}
	if n := exiftoolLeaks(t, outDir, len(samples(t))); n != 0 {
		t.Errorf("(b) exiftool finds %d identifying tags in stripped files", n)
	}
}

// TestExiftoolCheckCanFail runs the exiftool cross-check on the unstripped
// fixtures: it must flag them, or check (b) proves nothing.
func TestExiftoolCheckCanFail(t *testing.T) {
	if n := exiftoolLeaks(t, filepath.Join("..", "testdata", "photos"), 0); n < 20 {
		t.Errorf("exiftool flags only %d tags in the unstripped fixtures", n)
	}
}

// exiftoolLeaks is check (b): an independent reader, exiftool, must find
// nothing in stripped files beyond geometry, colour, JFIF density and
// orientation. It returns how many other tags exiftool reports in dir; when
// want > 0, it reports each of them and expects at least want files. CI
// installs exiftool; without it the check is skipped, loudly.
func exiftoolLeaks(t *testing.T, dir string, want int) int {
	if _, err := exec.LookPath("exiftool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("exiftool is required in CI (apt-get install libimage-exiftool-perl)")
		}
		t.Skip("exiftool not installed: cross-check (b) skipped")
	}
	out, err := exec.Command("exiftool", "-j", "-a", "-G1", "-s", "-q", "-q", dir).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("exiftool: %v", err)
	}
	var files []map[string]any
	if err := json.Unmarshal(out, &files); err != nil {
		t.Fatalf("exiftool output: %v", err)
	}
	left := 0
	for _, f := range files {
		isTIFF := f["File:FileType"] == "TIFF"
		for k, v := range f {
			if !exiftoolAllowed(k, v) && !(isTIFF && exiftoolTIFFAllowed(k)) {
				if want > 0 {
					t.Errorf("(b) exiftool finds %s = %v in %s", k, v, filepath.Base(fmt.Sprint(f["SourceFile"])))
				}
				left++
			}
		}
	}
	t.Logf("exiftool cross-check of %s: %d files checked, %d tags left beyond the allowlist", filepath.Base(dir), len(files), left)
	if want > 0 && len(files) < want {
		t.Errorf("exiftool read only %d files", len(files))
	}
	return left
}

// TestStripFixtures checks the committed fixtures, which carry every kind of
// metadata a phone or editing tool writes, for the specific things that must
// go and stay.
func TestStripFixtures(t *testing.T) {
	for _, tc := range []struct {
		file        string
		orientation int
		mustFind    []Category
		mustDrop    []string
	}{
		{"phone-rotated6.jpg", 6, []Category{CatGPS, CatDate, CatDevice, CatText, CatThumbnail, CatTrailer}, []string{"Exif", "XMP", "Photoshop/IPTC", "comment"}},
		{"clinic.png", 8, []Category{CatGPS, CatDate, CatText, CatTrailer}, []string{"eXIf", "tEXt", "iTXt"}},
		{"rose-exif.webp", 6, []Category{CatGPS, CatDevice, CatText, CatTrailer}, []string{"EXIF", "XMP "}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "testdata", "photos", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			in := scan(t, b)
			for _, c := range tc.mustFind {
				if in.Count(c) == 0 {
					t.Errorf("scan found no %s metadata; findings: %v", c, in.Findings)
				}
			}
			out, res, err := strip(t, b)
			if err != nil {
				t.Fatal(err)
			}
			if res.Orientation != tc.orientation {
				t.Errorf("orientation %d, want %d", res.Orientation, tc.orientation)
			}
			dropped := strings.Join(res.Dropped, ",")
			for _, d := range tc.mustDrop {
				if !strings.Contains(dropped, d) {
					t.Errorf("dropped %q, want it to include %q", dropped, d)
				}
			}
			for _, leak := range []string{"Jane", "Doe", "Smith", "iPhone", "Samsung", "F2LXK", "4711", "MOTIONPHOTO", "2026"} {
				if bytes.Contains(out, []byte(leak)) {
					t.Errorf("output still contains %q", leak)
				}
			}
		})
	}
}

// TestMultiSegmentICC checks that an ICC profile split over several APP2
// segments (ICC.1:2022 Annex B.4), here in reverse order, is read whole and
// written back made neutral, split again and numbered in order.
func TestMultiSegmentICC(t *testing.T) {
	body := jpegBody(t, filepath.Join(goroot(t), "src", "image", "testdata", "video-001.jpeg"))
	profile := craftedICC(4, 40000)
	seg := func(seq, n byte, part []byte) []byte {
		p := append(append([]byte(iccID), seq, n), part...)
		return append([]byte{0xFF, mAPP2, byte((len(p) + 2) >> 8), byte(len(p) + 2)}, p...)
	}
	s1, s2 := seg(1, 2, profile[:65000]), seg(2, 2, profile[65000:])
	in := append(append(append([]byte{0xFF, 0xD8}, s2...), s1...), body...)
	out, _, err := strip(t, in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sanitizeICC(profile)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) <= 65519 {
		t.Fatalf("sanitised profile of %d bytes fits one segment", len(want))
	}
	i, j := bytes.Index(out, []byte(iccID+"\x01\x02")), bytes.Index(out, []byte(iccID+"\x02\x02"))
	if i < 0 || j < 0 || j < i {
		t.Fatalf("ICC segments not written in order: %d, %d", i, j)
	}
	if got := iccOf(t, out); !bytes.Equal(got, want) {
		t.Errorf("ICC profile of %d bytes written, want the %d sanitised bytes", len(got), len(want))
	}
}

// TestStripRefusesTruncated: the goexif camera samples whose image data was
// cut off, and every sample cut at each of its segment boundaries, must give
// an error (never a panic, never a "clean" output of a partial image).
func TestStripRefusesTruncated(t *testing.T) {
	samples(t)
	for _, s := range truncated {
		if _, _, err := strip(t, s.data); err == nil {
			t.Errorf("%s: truncated file stripped without error", s.name)
		} else {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("%s: error %v is not a FormatError", s.name, err)
			}
		}
	}
	cuts := 0
	for _, s := range samples(t) {
		if len(s.data) > 200_000 {
			continue
		}
		end := imageEnd(t, s.data)
		for _, cut := range boundaries(s.data) {
			if cut >= end {
				continue // cutting only the trailer leaves a whole image
			}
			cuts++
			if _, _, err := strip(t, s.data[:cut]); err == nil {
				t.Errorf("%s cut at %d of %d: no error", s.name, cut, len(s.data))
			}
			Scan(bytes.NewReader(s.data[:cut]), int64(cut)) // must not panic
		}
	}
	t.Logf("%d truncated camera files and %d cuts refused", len(truncated), cuts)
}

// imageEnd returns where the image proper ends (after EOI, IEND or the RIFF
// data): cutting there or later only removes a trailer.
func imageEnd(t testing.TB, b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte(pngSignature)):
		return bytes.LastIndex(b, []byte("IEND")) + 8
	case bytes.HasPrefix(b, []byte("RIFF")):
		return 8 + int(b[4]) | int(b[5])<<8 | int(b[6])<<16 | int(b[7])<<24
	}
	// The primary image's EOI: a gain map or preview after it is a trailer.
	j := newJPEGReader(bytes.NewReader(b))
	defer j.close()
	if j.soi() != nil || j.walk(jpegVisitor{segment: func(byte, []byte) error { return nil }}) != nil {
		return len(b)
	}
	return int(j.off)
}

// boundaries returns the offsets where a container's segments or chunks
// start, plus a few points inside them.
func boundaries(b []byte) []int {
	var cuts []int
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8}):
		for i := 2; i+1 < len(b); i++ {
			if b[i] == 0xFF && b[i+1] != 0 && b[i+1] != 0xFF && !isRST(b[i+1]) {
				cuts = append(cuts, i, i+1, i+3)
			}
		}
	case bytes.HasPrefix(b, []byte(pngSignature)):
		for i := 8; i+8 <= len(b); {
			n := int(uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3]))
			cuts = append(cuts, i, i+4, i+8+n/2, i+8+n)
			i += 12 + n
		}
	case bytes.HasPrefix(b, []byte("RIFF")):
		for i := 12; i+8 <= len(b); {
			n := int(uint32(b[i+4]) | uint32(b[i+5])<<8 | uint32(b[i+6])<<16 | uint32(b[i+7])<<24)
			cuts = append(cuts, i, i+4, i+8+n/2)
			i += 8 + n + n&1
		}
	}
	cuts = append(cuts, 0, 1, 2, 3, 7, 11, len(b)/2)
	var out []int
	for _, c := range cuts {
		if c >= 0 && c < len(b) {
			out = append(out, c)
		}
	}
	return out
}

// TestHostileLengths points every length field past the end of the file.
func TestHostileLengths(t *testing.T) {
	for _, s := range samples(t)[:40] {
		for _, cut := range boundaries(s.data) {
			b := bytes.Clone(s.data)
			if cut+4 > len(b) {
				continue
			}
			b[cut], b[cut+1], b[cut+2], b[cut+3] = 0xFF, 0xFF, 0xFF, 0x7F
			strip(t, b) // must not panic; errors are expected
			Scan(bytes.NewReader(b), int64(len(b)))
		}
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		head string
		want Format
		ok   bool
	}{
		{"\xff\xd8\xff\xe0", JPEG, true},
		{"\x89PNG\r\n\x1a\n\x00\x00", PNG, true},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", WebP, true},
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", HEIF, true},
		{"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", AVIF, true},
		{"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", HEIF, true},
		{"\x00\x00\x00\x18ftypMiHE\x00\x00\x00\x00mif1MiHE", HEIF, true},
		{"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", RAW, false},
		{"\x00\x00\x00\x18ftypqt  \x00\x00\x00\x00qt  ", Video, false},
		{"II*\x00\x08\x00\x00\x00", TIFF, true},
		{"MM\x00*\x00\x00\x00\x08", TIFF, true},
		{"II*\x00\x10\x00\x00\x00CR\x02\x00", RAW, false},
		{"GIF89a", GIF, false},
		{"hello world", Unknown, false},
		{"RIFF\x00\x00\x00\x00AVI LIST", Unknown, false},
	} {
		f, err := Sniff([]byte(tc.head))
		if f != tc.want || (err == nil) != tc.ok {
			t.Errorf("Sniff(%q) = %v, %v; want %v, ok=%v", tc.head, f, err, tc.want, tc.ok)
		}
		if !tc.ok && !errors.Is(err, ErrUnsupported) {
			t.Errorf("Sniff(%q) error %v does not match ErrUnsupported", tc.head, err)
		}
	}
	// The video half of an iPhone Live Photo says where the photo is.
	if _, err := Sniff([]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ")); err == nil || !strings.Contains(err.Error(), "Live Photo") {
		t.Errorf("QuickTime refusal %v does not name the Live Photo", err)
	}
	if _, err := Sniff(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Sniff(empty) = %v, want ErrEmpty", err)
	}
	// A PNG named .jpg is a PNG: the name is never consulted.
	b, _ := os.ReadFile(filepath.Join("..", "testdata", "photos", "clinic.png"))
	if _, res, err := strip(t, b); err != nil || res.Format != PNG {
		t.Errorf("PNG bytes: %v %v", res, err)
	}
}
