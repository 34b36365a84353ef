package manifest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

// ingests returns n realistic ingest records (distinct codes and hashes, one
// shared sealed field: sealing is the ingest workers' cost, not the log's).
func ingests(b testing.TB, k *keys, n int) []Record {
	sealed := seal(b, k, Detail{Path: "inbox/MRN-123456/before/IMG_0001.JPG", Name: "IMG_0001.JPG", PatientKey: "MRN-123456",
		SHA256: randHex(b), Size: 3_500_000, ModTime: testTime})
	subjects := make([]string, 1+n/20)
	for i := range subjects {
		subjects[i] = newUUID(b)
	}
	recs := make([]Record, n)
	for i := range recs {
		photo, subject := newUUID(b), subjects[i%len(subjects)]
		recs[i] = &Ingest{
			Photo: photo, Subject: subject, Phase: Phases[i%4], Format: "jpeg",
			Released: Released{Path: subject + "/" + photo + ".jpg", SHA256: randHex(b), Size: 2_900_000, Width: 4032, Height: 3024},
			Blob:     BlobInfo{SHA256: randHex(b), Size: 3_500_200},
			Time:     testTime.Add(time.Duration(i) * time.Second),
			Sealed:   sealed,
		}
	}
	return recs
}

func randHex(b testing.TB) string {
	var x [32]byte
	if _, err := rand.Read(x[:]); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(x[:])
}

// BenchmarkAppend measures committed records per second for group commits
// of several sizes; every batch is fsynced twice and signed once.
func BenchmarkAppend(b *testing.B) {
	k := newKeys(b)
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			recs := ingests(b, k, batch)
			l := openLog(b, b.TempDir(), k)
			b.ResetTimer()
			for range b.N {
				if _, err := l.Append(recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkVerify measures a full audit of a generated log without blobs.
// The 1,000,000-record case takes a while to build; run it with
// go test -run '^$' -bench 'Verify/records=1000000' -benchtime 1x ./manifest
func BenchmarkVerify(b *testing.B) {
	k := newKeys(b)
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			l := openLog(b, dir, k)
			const chunk = 50_000
			recs := ingests(b, k, min(n, chunk))
			for done := 0; done < n; done += chunk {
				// Fresh codes per chunk: Verify rejects a reused photo code.
				if done > 0 {
					for _, r := range recs {
						r.(*Ingest).Photo = newUUID(b)
						r.(*Ingest).Released.Path = r.(*Ingest).Subject + "/" + r.(*Ingest).Photo + ".jpg"
					}
				}
				if _, err := l.Append(recs[:min(chunk, n-done)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				rep, err := Verify(b.Context(), VerifyOptions{LogDir: dir, Origin: k.origin, LogVerifier: k.verifier, CustodianKeys: k.custodianKeys()})
				if err != nil {
					b.Fatal(err)
				}
				if !rep.OK() || rep.Records != int64(n) {
					b.Fatalf("verify: %d records, findings %v", rep.Records, rep.Findings[:min(5, len(rep.Findings))])
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
		})
	}
}
