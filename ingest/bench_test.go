package ingest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// benchJPEG returns a w x h JPEG with photo-like noise and the phone
// fixture's metadata (Exif with GPS and a thumbnail, XMP, IPTC, comment,
// trailer) in front of it.
func benchJPEG(b *testing.B, w, h int) []byte {
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
	// The fixture's SOI and APPn/COM segments, then the new image's
	// segments after its own.
	cut := func(j []byte) int {
		i := 2
		for i+4 <= len(j) && j[i] == 0xFF && (j[i+1]&0xF0 == 0xE0 || j[i+1] == 0xFE) {
			i += 2 + int(j[i+2])<<8 | int(j[i+3])
		}
		return i
	}
	return append(append([]byte(nil), meta[:cut(meta)]...), buf.Bytes()[cut(buf.Bytes()):]...)
}

// benchIngest ingests n distinct photos of w x h per iteration into a fresh
// vault and release folder, with real fsyncs: the whole commit order.
func benchIngest(b *testing.B, n, w, h int) {
	base := benchJPEG(b, w, h)
	var total int64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		e := &env{v: newVault(b), inbox: filepath.Join(dir, "inbox"), release: filepath.Join(dir, "release")}
		for i := range n {
			// A distinct trailer after EOI makes distinct bytes (it is
			// stripped, so the released files are alike).
			data := append(append([]byte(nil), base...), fmt.Sprintf("trailer %d", i)...)
			p := filepath.Join(e.inbox, fmt.Sprintf("P%d", i%10), "before", fmt.Sprintf("IMG_%04d.jpg", i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				b.Fatal(err)
			}
			total += int64(len(data))
		}
		b.StartTimer()
		p, err := New(e.v, Options{Release: e.release, Workers: runtime.GOMAXPROCS(0)})
		if err != nil {
			b.Fatal(err)
		}
		var last Event
		sum, err := p.Run(context.Background(), []string{e.inbox}, func(ev Event) { last = ev })
		p.Close()
		if err != nil || sum.Ingested != n {
			b.Fatalf("ingested %d of %d: %v (last event %+v)", sum.Ingested, n, err, last)
		}
	}
	b.SetBytes(total / int64(b.N))
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkIngest12MP: 12 photos of 4032x3024 (about 4.5 MB each).
func BenchmarkIngest12MP(b *testing.B) { benchIngest(b, 12, 4032, 3024) }

// BenchmarkIngestSmall: 200 photos of 800x600.
func BenchmarkIngestSmall(b *testing.B) { benchIngest(b, 200, 800, 600) }
