package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// quarantines returns n distinct valid records sharing one sealed field,
// which keeps large test logs cheap to build.
func quarantines(t testing.TB, k *keys, n int) []Record {
	t.Helper()
	sealed := seal(t, k, Detail{Name: "x.heic", Message: "HEIC is not supported yet"})
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = &Quarantine{Reason: "format", Time: testTime.Add(timeStep(i)), Sealed: sealed}
	}
	return recs
}

func openLog(t testing.TB, dir string, k *keys) *Log {
	t.Helper()
	l, err := Open(dir, k.origin, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func verifyLog(t testing.TB, dir string, k *keys, pinned []byte) *Report {
	t.Helper()
	rep, err := Verify(t.Context(), VerifyOptions{LogDir: dir, Origin: k.origin, LogVerifier: k.verifier, CustodianKeys: k.custodianKeys(), Pinned: pinned})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func checkpointOf(t testing.TB, dir string, k *keys) Checkpoint {
	t.Helper()
	msg, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenCheckpoint(msg, k.origin, k.verifier)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLogMatchesTlog appends in batches of varied sizes and checks, after
// each, the signed root against tlog computing the same tree in memory, the
// stored hashes file byte for byte, and that Verify agrees.
func TestLogMatchesTlog(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	l := openLog(t, dir, k)
	if c := checkpointOf(t, dir, k); c.N != 0 || c.Hash != emptyRoot {
		t.Fatalf("empty log checkpoint = %+v", c)
	}
	recs := quarantines(t, k, 100)
	var mem []tlog.Hash
	memReader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = mem[x]
		}
		return out, nil
	})
	n := 0
	for _, batch := range []int{1, 1, 2, 5, 8, 13, 21, 34, 15} {
		first, err := l.Append(recs[n : n+batch])
		if err != nil {
			t.Fatal(err)
		}
		if first != int64(n) {
			t.Errorf("Append returned first %d, want %d", first, n)
		}
		for _, r := range recs[n : n+batch] {
			b, _ := Marshal(r)
			hs, err := tlog.StoredHashes(int64(n), b, memReader)
			if err != nil {
				t.Fatal(err)
			}
			mem = append(mem, hs...)
			n++
		}
		want, err := tlog.TreeHash(int64(n), memReader)
		if err != nil {
			t.Fatal(err)
		}
		if c := checkpointOf(t, dir, k); c.N != int64(n) || c.Hash != want {
			t.Errorf("after %d records: checkpoint %d %v, want %v", n, c.N, c.Hash, want)
		}
		if rep := verifyLog(t, dir, k, nil); !rep.OK() || rep.Records != int64(n) {
			t.Errorf("after %d records: verify %d records, findings %v", n, rep.Records, rep.Findings)
		}
	}
	disk, _ := os.ReadFile(filepath.Join(dir, HashesFile))
	var memBytes []byte
	for _, h := range mem {
		memBytes = append(memBytes, h[:]...)
	}
	if !bytes.Equal(disk, memBytes) {
		t.Error("hashes file differs from tlog.StoredHashes")
	}
	// Inclusion proofs work against the stored hashes.
	for _, i := range []int64{0, 17, 99} {
		p, err := tlog.ProveRecord(int64(n), i, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Marshal(recs[i])
		if err := tlog.CheckRecord(p, int64(n), checkpointOf(t, dir, k).Hash, i, tlog.RecordHash(b)); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
	}
}

func timeStep(i int) time.Duration { return time.Duration(i) * time.Second }

// TestVerifyPinnedExtension: a log that grew since the auditor pinned it
// passes, by proof from the stored hashes or, without them, from the records.
func TestVerifyPinnedExtension(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	l := openLog(t, dir, k)
	recs := quarantines(t, k, 50)
	if _, err := l.Append(recs[:7]); err != nil {
		t.Fatal(err)
	}
	pinned, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if _, err := l.Append(recs[7:]); err != nil {
		t.Fatal(err)
	}
	if rep := verifyLog(t, dir, k, pinned); !rep.OK() || rep.Pinned == nil || rep.Pinned.N != 7 || rep.Checkpoint.N != 50 {
		t.Errorf("extended log: %v (pinned %+v)", rep.Findings, rep.Pinned)
	}
	os.Remove(filepath.Join(dir, HashesFile))
	if rep := verifyLog(t, dir, k, pinned); !rep.OK() {
		t.Errorf("extended log without stored hashes: %v", rep.Findings)
	}
}

func TestCheckpointFormat(t *testing.T) {
	k := newKeys(t)
	c := Checkpoint{Origin: k.origin, N: 12, Hash: tlog.RecordHash([]byte("x"))}
	text := string(c.Text())
	if want := k.origin + "\n12\n" + strings.TrimSpace(c.Hash.String()) + "\n"; text != want {
		t.Errorf("Text = %q, want %q", text, want)
	}
	if got, err := ParseCheckpoint([]byte(text)); err != nil || got != c {
		t.Errorf("ParseCheckpoint = %+v, %v", got, err)
	}
	for _, bad := range []string{
		text + "extension\n",
		strings.Replace(text, "\n12\n", "\n012\n", 1),
		strings.Replace(text, "\n12\n", "\n-1\n", 1),
		strings.TrimSuffix(text, "\n"),
		"go.sum database tree\n12\n" + c.Hash.String() + "\n",
	} {
		if _, err := ParseCheckpoint([]byte(bad)); err == nil && !strings.HasPrefix(bad, "go.sum") {
			t.Errorf("ParseCheckpoint(%q) accepted", bad)
		}
	}
	msg, err := SignCheckpoint(c, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(msg, "veil/other", k.verifier); err == nil {
		t.Error("checkpoint of another origin accepted")
	}
	var ce *CheckpointError
	if _, err := OpenCheckpoint(msg, k.origin, newKeysNamed(t, k.origin).verifier); !errors.As(err, &ce) {
		t.Errorf("foreign key: %v", err)
	}
	tampered := bytes.Replace(msg, []byte("\n12\n"), []byte("\n13\n"), 1)
	if _, err := OpenCheckpoint(tampered, k.origin, k.verifier); !errors.As(err, &ce) {
		t.Errorf("edited checkpoint: %v", err)
	}
}

// TestRecover simulates a crash at each point of Append and checks that
// Open completes the commit without losing or repeating a record.
func TestRecover(t *testing.T) {
	k := newKeys(t)
	recs := quarantines(t, k, 20)
	cases := []struct {
		name  string
		crash func(t *testing.T, dir string, full, hashesAt10 []byte)
		want  int64 // records after recovery
	}{
		{"torn record line", func(t *testing.T, dir string, full, _ []byte) {
			b, _ := os.ReadFile(filepath.Join(dir, RecordsFile))
			line, _ := Marshal(recs[0])
			writeFile(t, filepath.Join(dir, RecordsFile), append(b, line[:len(line)/2]...))
		}, 20},
		{"crash before the hashes", func(t *testing.T, dir string, _, hashesAt10 []byte) {
			writeFile(t, filepath.Join(dir, HashesFile), hashesAt10)
		}, 20},
		{"torn hash write", func(t *testing.T, dir string, full, hashesAt10 []byte) {
			writeFile(t, filepath.Join(dir, HashesFile), full[:len(hashesAt10)+45])
		}, 20},
		{"hashes file lost", func(t *testing.T, dir string, _, _ []byte) {
			os.Remove(filepath.Join(dir, HashesFile))
		}, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, k)
			l.Append(recs[:10])
			hashesAt10, _ := os.ReadFile(filepath.Join(dir, HashesFile))
			cp10, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
			l.Append(recs[10:])
			l.Close()
			full, _ := os.ReadFile(filepath.Join(dir, HashesFile))
			want := checkpointOf(t, dir, k)
			tc.crash(t, dir, full, hashesAt10)
			// Every case is also a crash before the checkpoint was signed.
			writeFile(t, filepath.Join(dir, CheckpointFile), cp10)

			l2 := openLog(t, dir, k)
			if l2.Size() != tc.want {
				t.Errorf("size after recovery %d, want %d", l2.Size(), tc.want)
			}
			if got := checkpointOf(t, dir, k); got != want {
				t.Errorf("checkpoint after recovery %+v, want %+v", got, want)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, HashesFile)); !bytes.Equal(b, full) {
				t.Error("stored hashes not rebuilt exactly")
			}
			if rep := verifyLog(t, dir, k, cp10); !rep.OK() {
				t.Errorf("verify after recovery: %v", rep.Findings)
			}
			if _, err := l2.Append(recs[:1]); err != nil || l2.Size() != 21 {
				t.Errorf("append after recovery: %v, size %d", err, l2.Size())
			}
		})
	}
}

// TestOpenRefusesDamage: states no crash can produce are left alone for
// verify to name, not repaired.
func TestOpenRefusesDamage(t *testing.T) {
	k := newKeys(t)
	recs := quarantines(t, k, 10)
	for name, damage := range map[string]func(dir string){
		"records shorter than the checkpoint": func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, RecordsFile))
			writeFile(t, filepath.Join(dir, RecordsFile), b[:bytes.Index(b, []byte("\n"))+1])
			os.Remove(filepath.Join(dir, HashesFile))
		},
		"records shorter than the stored hashes": func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, RecordsFile))
			writeFile(t, filepath.Join(dir, RecordsFile), b[:bytes.Index(b, []byte("\n"))+1])
		},
		"record edited": func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, RecordsFile))
			writeFile(t, filepath.Join(dir, RecordsFile), bytes.Replace(b, []byte("format"), []byte("phase!"), 1))
			os.Remove(filepath.Join(dir, HashesFile))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, k)
			l.Append(recs)
			l.Close()
			damage(dir)
			before, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
			if _, err := Open(dir, k.origin, k.signer); !errors.Is(err, ErrInconsistent) {
				t.Errorf("Open = %v, want ErrInconsistent", err)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, CheckpointFile)); !bytes.Equal(before, after) {
				t.Error("Open re-signed a damaged log")
			}
		})
	}
}

// TestVerifyUnsignedTail: records the checkpoint does not sign are a finding,
// unless a writer signed them while the audit ran.
func TestVerifyUnsignedTail(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	l := openLog(t, dir, k)
	recs := quarantines(t, k, 15)
	l.Append(recs[:10])
	cp10, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
	l.Append(recs[10:])
	cp15, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))

	writeFile(t, filepath.Join(dir, CheckpointFile), cp10) // crash before signing
	rep := verifyLog(t, dir, k, nil)
	if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].String(), "record 10: checkpoint: records 10..14 are not covered") {
		t.Errorf("unsigned tail: %v", rep.Findings)
	}

	// An ingest signs the tail between reading the checkpoint and the records.
	v := &verifier{opts: VerifyOptions{LogDir: dir, Origin: k.origin, LogVerifier: k.verifier}, rep: &Report{}, hashMismatch: -1}
	if err := v.checkpoints(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, CheckpointFile), cp15)
	if err := v.scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	v.tree()
	if !v.rep.OK() || v.rep.Checkpoint.N != 15 {
		t.Errorf("concurrent append: %v, checkpoint %+v", v.rep.Findings, v.rep.Checkpoint)
	}
}

func TestScan(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	if err := Scan(dir, func(int64, []byte) error { t.Error("record in an empty log"); return nil }); err != nil {
		t.Fatalf("empty log: %v", err)
	}
	l := openLog(t, dir, k)
	l.Append(quarantines(t, k, 5))
	var seen []int64
	if err := Scan(dir, func(i int64, line []byte) error {
		if _, err := Parse(line); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
		seen = append(seen, i)
		return nil
	}); err != nil || len(seen) != 5 || seen[4] != 4 {
		t.Errorf("Scan = %v, indexes %v", err, seen)
	}
	f, _ := os.OpenFile(filepath.Join(dir, RecordsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":1,"type":"quar`)
	f.Close()
	var ce *CorruptError
	if err := Scan(dir, func(int64, []byte) error { return nil }); !errors.As(err, &ce) || ce.Index != 5 {
		t.Errorf("torn line: %v", err)
	}
}

// TestCheckpointAt: the checkpoint of a prefix is the one the log signed
// when it had that many records, so a writer can tell a log that extends
// what it wrote from one put back or replaced.
func TestCheckpointAt(t *testing.T) {
	k := newKeys(t)
	dir := t.TempDir()
	l := openLog(t, dir, k)
	if _, err := l.Append(quarantines(t, k, 5)); err != nil {
		t.Fatal(err)
	}
	at5, err := l.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(quarantines(t, k, 3)); err != nil {
		t.Fatal(err)
	}
	got, err := l.CheckpointAt(5)
	if err != nil || got != at5 {
		t.Errorf("CheckpointAt(5) = %+v, %v; want %+v", got, err, at5)
	}
	if now, _ := l.Checkpoint(); now.N != 8 || now == at5 {
		t.Errorf("Checkpoint() = %+v after 8 records", now)
	}
	if _, err := l.CheckpointAt(9); err == nil {
		t.Error("CheckpointAt beyond the log succeeded")
	}
}
