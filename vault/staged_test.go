package vault

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-photo/veil/internal/atomicfile"
)

// TestStageAndCommit: staged blobs are invisible (no name) until
// CommitStaged, then read back like Put's; a discarded one leaves nothing.
func TestStageAndCommit(t *testing.T) {
	v, c := newTestVault(t)
	var staged []*Staged
	for i := range 3 {
		st, err := v.Stage(t.Context(), bytes.NewReader(randomBytes(100_000+i, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(v.BlobPath(st.Ref.Hash)); err == nil {
			t.Fatal("a staged blob has its name before CommitStaged")
		}
		staged = append(staged, st)
	}
	staged[1].Discard()
	if err := v.CommitStaged([]*Staged{staged[0], staged[2]}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		got := readBlob(t, v, staged[i].Ref.Hash, c)
		if sha(got) != staged[i].Ref.PlainSHA256 || len(got) != 100_000+i {
			t.Errorf("blob %d does not read back", i)
		}
	}
	n := 0
	if err := v.WalkBlobs(func(string, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d blobs, want 2", n)
	}
	es, _ := os.ReadDir(filepath.Join(v.Dir(), blobsDir))
	for _, e := range es {
		if atomicfile.IsTemp(e.Name()) {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestStageKnown: a plaintext hashed by the caller is recorded with the
// caller's sum and reads back; a wrong sum is caught when the blob is read
// against its record.
func TestStageKnown(t *testing.T) {
	v, c := newTestVault(t)
	plain := randomBytes(70_000, 7)
	st, err := v.StageKnown(t.Context(), bytes.NewReader(plain), sha256.Sum256(plain))
	if err != nil {
		t.Fatal(err)
	}
	if st.Ref.PlainSHA256 != sha(plain) || st.Ref.PlainSize != int64(len(plain)) {
		t.Fatalf("ref %+v does not describe the plaintext", st.Ref)
	}
	lie, err := v.StageKnown(t.Context(), bytes.NewReader(plain), sha256.Sum256([]byte("other")))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CommitStaged([]*Staged{st, lie}); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, v, st.Ref.Hash, c); !bytes.Equal(got, plain) {
		t.Fatal("blob does not read back")
	}
	r, err := v.OpenBlobRef(lie.Ref, c)
	if err == nil {
		_, err = io.Copy(io.Discard, r)
		r.Close()
	}
	if !errors.Is(err, ErrBlobMismatch) {
		t.Fatalf("reading a blob staged with a wrong sum: %v, want ErrBlobMismatch", err)
	}
}
