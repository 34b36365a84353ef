package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// withICC returns each container the red team attacked (and HEIF and TIFF)
// with the crafted profile embedded as that container embeds one.
func withICC(t *testing.T) map[string][]byte {
	t.Helper()
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out := map[string][]byte{}

	// JPEG: one APP2 segment, and a profile split over two (Annex B.4).
	jpg := read(filepath.Join("..", "testdata", "photos", "phone-rotated6.jpg"))
	app2 := func(segs [][]byte) []byte {
		var b []byte
		for _, p := range segs {
			b = append(append(b, 0xFF, mAPP2, byte((len(p)+2)>>8), byte(len(p)+2)), p...)
		}
		return b
	}
	out["single.jpg"] = append(append([]byte{0xFF, 0xD8}, app2(iccSegments(craftedICC(2, 0)))...), jpg[2:]...)
	out["split.jpg"] = append(append([]byte{0xFF, 0xD8}, app2(iccSegments(craftedICC(4, 40000)))...), jpg[2:]...)

	// PNG: iCCP after IHDR with a free-text name and bytes after the zlib
	// stream.
	png := read(filepath.Join("..", "testdata", "photos", "clinic.png"))
	var z bytes.Buffer
	z.WriteString("Jane Doe 483920 1985-03-02\x00\x00")
	zw := zlib.NewWriter(&z)
	zw.Write(craftedICC(2, 0))
	zw.Close()
	z.WriteString("Jane Doe after the stream")
	ihdr := 8 + 12 + 13
	out["crafted.png"] = append(append(bytes.Clone(png[:ihdr]), pngChunk("iCCP", z.Bytes())...), png[ihdr:]...)

	// WebP: an ICCP chunk after VP8X, its flag set.
	webp := read(filepath.Join("..", "testdata", "photos", "rose-exif.webp"))
	webp = webp[:8+binary.LittleEndian.Uint32(webp[4:])]
	p := craftedICC(2, 0)
	ch := binary.LittleEndian.AppendUint32([]byte("ICCP"), uint32(len(p)))
	ch = append(ch, p...)
	if len(p)%2 == 1 {
		ch = append(ch, 0)
	}
	body := append(append(bytes.Clone(webp[12:30]), ch...), webp[30:]...)
	body[8] |= vp8xICC
	out["crafted.webp"] = append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+len(body))), append([]byte("WEBP"), body...)...)

	// HEIF: a colr property of type prof on the primary image.
	out["crafted.heic"] = remeta(t, heifFixtures(t)["phone-irot.heic"], func(m *heifMeta, _ *heifLayout) {
		addProp(m, m.primary, "colr", append([]byte("prof"), craftedICC(4, 0)...), false)
	})

	// TIFF: the crafted profile in place of hopper's sRGB, the rest of the
	// old value filled with text a profile's declared size leaves out.
	tif := tiffFixtures(t)["hopper.iccprofile.tif"]
	tf, err := parseTIFF(bytes.NewReader(tif), int64(len(tif)), true)
	if err != nil {
		t.Fatal(err)
	}
	e := tf.pages[0].entry(tagICC)
	crafted := craftedICC(2, 0)
	if e == nil || int(e.count) < len(crafted) {
		t.Fatal("hopper.iccprofile.tif has no profile large enough")
	}
	tif = bytes.Clone(tif)
	fill := bytes.Repeat([]byte("Jane Doe "), int(e.count))
	copy(tif[e.valOff:e.valOff+int64(e.count)], append(crafted, fill...))
	out["crafted.tif"] = tif
	return out
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// TestStripICCContainers checks PoC 3 in every container: scan reports the
// profile's text, Strip keeps a sanitised profile and the pixels, leaves
// none of the crafted text, and its output scans clean; the self-check
// refuses the output once its profile carries text again.
func TestStripICCContainers(t *testing.T) {
	files := withICC(t)
	dir := t.TempDir()
	for name, in := range files {
		t.Run(name, func(t *testing.T) {
			rep := scan(t, in)
			texts := 0
			for _, f := range rep.Findings {
				if strings.HasPrefix(f.Source, "ICC profile") || f.Source == "PNG iCCP" {
					texts++
				}
			}
			if texts < 5 || rep.Count(CatText) == 0 {
				t.Errorf("scan reports %d ICC findings: %v", texts, rep.Findings)
			}
			out, res, err := strip(t, in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(res.Dropped, ","), "ICC profile text") {
				t.Errorf("dropped %q, want ICC profile text", res.Dropped)
			}
			searched := out
			if name == "crafted.png" {
				searched = append(bytes.Clone(out), iccOf(t, out)...)
			}
			for _, leak := range iccLeaks {
				if bytes.Contains(searched, []byte(leak)) {
					t.Errorf("output still holds %q", leak)
				}
			}
			if p := iccOf(t, out); p != nil && !iccClean(p) {
				t.Errorf("output's profile is not sanitised")
			} else if p == nil && (strings.HasSuffix(name, ".jpg") || strings.HasSuffix(name, ".png") || strings.HasSuffix(name, ".webp")) {
				t.Errorf("output lost its profile")
			}
			if r := scan(t, out); !r.Clean() {
				t.Errorf("stripped output scans %v", r.Findings)
			}
			switch {
			case strings.HasSuffix(name, ".heic"):
				comparePixels(t, in, out, HEIF)
			default:
				a, errA := pixels(in)
				b, errB := pixels(out)
				if errA != nil || errB != nil || !bytes.Equal(a.Pix, b.Pix) {
					t.Errorf("decoded pixels differ (%v, %v)", errA, errB)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
				t.Fatal(err)
			}
			checkRefusesText(t, res.Format, in, out)
		})
	}
	if t.Failed() {
		return
	}
	if n := exiftoolLeaks(t, dir, len(files)); n != 0 {
		t.Errorf("exiftool finds %d tags beyond the allowlist in the stripped files", n)
	}
}

// checkRefusesText tampers with the neutral text of a stripped file's
// profile (the PNG profile name, or the v2 description) and expects the
// self-check, which passes the untouched output, to refuse it.
func checkRefusesText(t *testing.T, f Format, in, out []byte) {
	t.Helper()
	pf := &proof{}
	var buf bytes.Buffer
	if err := stripWith(&buf, bytes.NewReader(in), int64(len(in)), &Result{Format: f}, pf); err != nil {
		t.Fatal(err)
	}
	if err := check(f, bytes.NewReader(out), pf); err != nil {
		t.Fatalf("self-check refuses Strip's output: %v", err)
	}
	bad := bytes.Clone(out)
	i := bytes.Index(bad, []byte(iccNeutral+"\x00"))
	if k := bytes.Index(bad, utf16BE(iccNeutral)); i < 0 && k >= 0 {
		copy(bad[k:], utf16BE("Jane Doe MR"))
	} else if i >= 0 {
		copy(bad[i:], "Jane Doe MR")
	} else {
		t.Fatal("no neutral text in the output's profile")
	}
	if f == PNG {
		// Mend the iCCP chunk's CRC: the check must refuse the name.
		k := bytes.Index(bad, []byte("iCCP"))
		n := int(binary.BigEndian.Uint32(bad[k-4:]))
		binary.BigEndian.PutUint32(bad[k+4+n:], crc32.ChecksumIEEE(bad[k:k+4+n]))
	}
	if err := check(f, bytes.NewReader(bad), pf); err == nil {
		t.Errorf("self-check accepts a profile that carries text")
	}
}

func utf16BE(s string) []byte {
	var b []byte
	for _, r := range s {
		b = binary.BigEndian.AppendUint16(b, uint16(r))
	}
	return b
}

// TestExiftoolICCCanFail: the exiftool allowlist must flag the crafted
// profiles in every container, or the cross-check above proves nothing.
func TestExiftoolICCCanFail(t *testing.T) {
	if _, err := exec.LookPath("exiftool"); err != nil && os.Getenv("CI") == "" {
		t.Skip("exiftool not installed")
	}
	dir := t.TempDir()
	files := withICC(t)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := exiftoolLeaks(t, dir, 0); n < 5*len(files) {
		t.Errorf("exiftool flags only %d tags in %d files with crafted profiles", n, len(files))
	}
}
