package photo

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// jpegEssence returns, by a walk independent of the code under test, the
// bytes that decoding depends on: every segment that is neither APPn nor COM,
// and the entropy-coded data, from SOI to EOI. Stripping must keep them all,
// byte for byte and in order.
func jpegEssence(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	i := 2
	for i+1 < len(b) {
		if b[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := b[i+1]
		if m == 0xFF {
			i++
			continue
		}
		if m == 0xD9 {
			return append(out, b[i:i+2]...)
		}
		l := int(binary.BigEndian.Uint16(b[i+2:]))
		if !(m >= 0xE0 && m <= 0xEF || m == 0xFE) {
			out = append(out, b[i:i+2+l]...)
		}
		i += 2 + l
		if m != 0xDA {
			continue
		}
		// Entropy-coded data runs to the next marker that is not a stuffed
		// zero or a restart marker.
		j := i
		for j+1 < len(b) && !(b[j] == 0xFF && b[j+1] != 0 && !(b[j+1] >= 0xD0 && b[j+1] <= 0xD7)) {
			j++
		}
		out = append(out, b[i:j]...)
		i = j
	}
	t.Fatal("no EOI")
	return nil
}

// TestJPEGImageBytesUnchanged checks losslessness directly, for every JPEG
// sample and for variants whose pixels Go cannot decode: 12-bit precision
// (SOF1 with P=12) and arithmetic coding (SOF9). veil never looks at the
// precision or the coding, so those are stripped exactly like baseline files.
func TestJPEGImageBytesUnchanged(t *testing.T) {
	var jpegs []sample
	for _, s := range samples(t) {
		if bytes.HasPrefix(s.data, []byte{0xFF, 0xD8}) {
			jpegs = append(jpegs, s)
		}
	}
	var base []byte
	for _, s := range jpegs {
		if s.name == "testdata/video-001.jpeg" {
			base = s.data
		}
	}
	for _, v := range []struct {
		name string
		sof  byte
		p    byte
	}{{"12-bit", 0xC1, 12}, {"arithmetic", 0xC9, 8}} {
		b := bytes.Clone(base)
		i := bytes.Index(b, []byte{0xFF, 0xC0})
		if i < 0 {
			t.Fatal("no SOF0 in base sample")
		}
		b[i+1], b[i+4] = v.sof, v.p
		jpegs = append(jpegs, sample{"variant/" + v.name, b})
	}
	for _, s := range jpegs {
		out, _, err := strip(t, s.data)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if !bytes.Equal(jpegEssence(t, s.data), jpegEssence(t, out)) {
			t.Errorf("%s: image segments or scan data changed", s.name)
		}
	}
}

// TestStripMemoryFlat: stripping a 12 MP photo allocates about as much as
// stripping a tiny one; memory holds a segment and fixed buffers, never the
// image.
func TestStripMemoryFlat(t *testing.T) {
	big := photo12MP(t)
	small, err := os.ReadFile(filepath.Join("..", "testdata", "photos", "phone-rotated6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	alloc := func(in []byte) uint64 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		for range 4 {
			if _, err := Strip(io.Discard, bytes.NewReader(in), int64(len(in))); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&m1)
		return (m1.TotalAlloc - m0.TotalAlloc) / 4
	}
	a, b := alloc(small), alloc(big)
	t.Logf("bytes allocated per strip: %d for a %d-byte photo, %d for a %d-byte photo", a, len(small), b, len(big))
	if b > 2*a+(256<<10) {
		t.Errorf("a %d-byte photo needed %d bytes, a %d-byte one %d: memory grows with the file", len(big), b, len(small), a)
	}
}
