package photo

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/veil-photo/veil/internal/testphoto"
)

var (
	bigOnce sync.Once
	bigJPEG []byte
)

// photo12MP returns a 4032x3024 JPEG (a 12 MP phone photo: about 4 MB with
// photo-like noise) carrying the metadata of the phone fixture: Exif with
// GPS and a thumbnail, XMP, IPTC and a comment.
func photo12MP(b testing.TB) []byte {
	bigOnce.Do(func() {
		body, err := testphoto.Noise(4032, 3024)
		if err != nil {
			b.Fatal(err)
		}
		meta, err := os.ReadFile(filepath.Join("..", "testdata", "photos", "phone-rotated6.jpg"))
		if err != nil {
			b.Fatal(err)
		}
		bigJPEG = testphoto.Graft(meta, body)
	})
	return bigJPEG
}

// BenchmarkStrip12MP measures Strip of a 12 MP JPEG from memory to memory:
// the parse, the copy and the concurrent self-check, without disk I/O.
func BenchmarkStrip12MP(b *testing.B) {
	in := photo12MP(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Strip(io.Discard, bytes.NewReader(in), int64(len(in))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScan12MP measures Scan of the same photo.
func BenchmarkScan12MP(b *testing.B) {
	in := photo12MP(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan(bytes.NewReader(in), int64(len(in))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStripHEIC strips a 12 MP iPhone-style HEIC (a 6x8 grid of
// 512x512 tiles, about 3 MB) from memory to memory: parse, plan, hashing
// every kept item, the copy and the concurrent self-check.
func BenchmarkStripHEIC(b *testing.B) {
	in := iphoneHEIC(b, 6, 8, 60000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Strip(io.Discard, bytes.NewReader(in), int64(len(in))); err != nil {
			b.Fatal(err)
		}
	}
}
