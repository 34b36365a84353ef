package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/veil-photo/veil/internal/testphoto"
	"github.com/veil-photo/veil/vault"
)

// benchJPEG returns a w x h photo-like JPEG carrying the phone fixture's
// metadata (Exif with GPS and a thumbnail, XMP, IPTC, comment).
func benchJPEG(b *testing.B, w, h int) []byte {
	body, err := testphoto.Noise(w, h)
	if err != nil {
		b.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join("..", "testdata", "photos", "phone-rotated6.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	return testphoto.Graft(meta, body)
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
		lock, err := vault.AcquireLock(context.Background(), e.v.Dir(), "bench", 0)
		if err != nil {
			b.Fatal(err)
		}
		p, err := New(e.v, lock, Options{Release: e.release, Workers: runtime.GOMAXPROCS(0)})
		if err != nil {
			b.Fatal(err)
		}
		var last Event
		sum, err := p.Run(context.Background(), []string{e.inbox}, func(ev Event) { last = ev })
		p.Close()
		lock.Release()
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
