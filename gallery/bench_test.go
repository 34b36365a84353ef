package gallery

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchPhoto makes a 12 MP (4000×3000) camera-like JPEG: smooth gradients
// with sensor-like noise, which compresses to a realistic 3-5 MB at
// quality 90 (flat synthetic images would decode unrealistically fast).
func benchPhoto(t testing.TB, seed uint64) []byte {
	t.Helper()
	const w, h = 4000, 3000
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rnd := rand.New(rand.NewPCG(seed, 1))
	for y := range h {
		for x := range w {
			m.Y[y*m.YStride+x] = uint8((x*200/w+y*50/h)%256) + uint8(rnd.IntN(24))
		}
	}
	for y := range h / 2 {
		for x := range w / 2 {
			m.Cb[y*m.CStride+x] = uint8(100 + x*60/w + rnd.IntN(6))
			m.Cr[y*m.CStride+x] = uint8(140 + y*60/h + rnd.IntN(6))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkBuildVsDecode measures, on the same 12 MP JPEGs and with one
// worker, the time to decode each file once (the floor: any gallery must
// read the pixels) and the time of a full gallery build into an empty site
// (decode, reduce, orient, encode preview and thumbnail, write pages). The
// metric that counts is gallery/decode; issue 17 asks for at most 2.
func BenchmarkBuildVsDecode(b *testing.B) {
	const n = 6 // the ratio, not the count, is what matters
	fx := newFixture(b, nil)
	for i := range n {
		fx.add(b, sample{subject: i % 2, phase: []string{"before", "after"}[i%2]}, benchPhoto(b, uint64(i)))
	}
	fx.writeIndex(b)
	var decode, build time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for _, r := range fx.rows {
			f, err := os.Open(filepath.Join(fx.dir, r.Path()))
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := image.Decode(bufio.NewReaderSize(f, 256<<10)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		decode += time.Since(start)

		site := filepath.Join(b.TempDir(), "site")
		start = time.Now()
		st, err := Build(context.Background(), Options{Release: fx.dir, Site: site, Workers: 1}, nil)
		build += time.Since(start)
		if err != nil || st.Rendered != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(decode.Milliseconds())/float64(b.N*n), "decode-ms/photo")
	b.ReportMetric(float64(build.Milliseconds())/float64(b.N*n), "gallery-ms/photo")
	b.ReportMetric(float64(build)/float64(decode), "gallery/decode")
}
