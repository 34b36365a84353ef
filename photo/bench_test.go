package photo

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	bigOnce sync.Once
	bigJPEG []byte
)

// photo12MP returns a 4032x3024 JPEG (a 12 MP phone photo: about 4 MB with
// photo-like noise) carrying the metadata of the phone fixture: Exif with
// GPS and a thumbnail, XMP, IPTC, a comment and a trailer.
func photo12MP(b testing.TB) []byte {
	bigOnce.Do(func() {
		const w, h = 4032, 3024
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		r := rand.New(rand.NewPCG(1, 2))
		for y := range h {
			for x := range w {
				img.Y[y*img.YStride+x] = uint8((x*255/w+y*255/h)/2) + uint8(r.IntN(24))
			}
		}
		for i := range img.Cb {
			img.Cb[i], img.Cr[i] = 128+uint8(r.IntN(8)), 140+uint8(r.IntN(8))
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
			b.Fatal(err)
		}
		meta, err := os.ReadFile(filepath.Join("..", "testdata", "photos", "phone-rotated6.jpg"))
		if err != nil {
			b.Fatal(err)
		}
		body := buf.Bytes()[2+len(jpegMetadata(buf.Bytes())):]
		bigJPEG = append(append([]byte{0xFF, 0xD8}, jpegMetadata(meta)...), body...)
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
