package vault

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

// reportCPURate adds "MB/cpu-s": throughput per second of CPU time, which,
// unlike MB/s, does not drop when other processes share the machine.
func reportCPURate(b *testing.B, start time.Duration, bytesPerOp int64) {
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/used.Seconds(), "MB/cpu-s")
	}
}

// photoSize is the size of a 12 MP JPEG straight from a phone or camera.
const photoSize = 5 << 20

// BenchmarkPut measures storing one 12 MP photo. "fsync" is Put as it runs:
// encryption, both hashes, the write and the fsyncs of file and directories.
// "nofsync" skips the fsyncs, and removes each blob again so that dirty page
// cache does not throttle the writes. "encrypt" is Put's CPU path alone (age
// encryption and both SHA-256s into io.Discard): the 400 MB/s target.
func BenchmarkPut(b *testing.B) {
	plain := randomBytes(photoSize, 12)
	b.Run("fsync", func(b *testing.B) {
		v, _ := newTestVault(b)
		b.SetBytes(photoSize)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Put(b.Context(), bytes.NewReader(plain)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nofsync", func(b *testing.B) {
		v, _ := newTestVault(b)
		v.noSync = true
		b.SetBytes(photoSize)
		b.ReportAllocs()
		start := cpuTime()
		for b.Loop() {
			ref, err := v.Put(b.Context(), bytes.NewReader(plain))
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			t := cpuTime()
			os.Remove(v.BlobPath(ref.Hash))
			start += cpuTime() - t // not Put's work
			b.StartTimer()
		}
		reportCPURate(b, start, photoSize)
	})
	b.Run("encrypt", func(b *testing.B) {
		v, _ := newTestVault(b)
		b.SetBytes(photoSize)
		b.ReportAllocs()
		start := cpuTime()
		for b.Loop() {
			if _, err := v.encrypt(b.Context(), io.Discard, bytes.NewReader(plain), nil); err != nil {
				b.Fatal(err)
			}
		}
		reportCPURate(b, start, photoSize)
	})
}

// BenchmarkOpenBlob measures decrypting one 12 MP photo with the custodian,
// including the check of the blob's hash against its name.
func BenchmarkOpenBlob(b *testing.B) {
	v, c := newTestVault(b)
	ref, err := v.Put(b.Context(), bytes.NewReader(randomBytes(photoSize, 12)))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	b.SetBytes(photoSize)
	start := cpuTime()
	for b.Loop() {
		r, err := v.OpenBlob(ref.Hash, c)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	reportCPURate(b, start, photoSize)
}
