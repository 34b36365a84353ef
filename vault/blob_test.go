package vault

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/atomicfile"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func readBlob(t *testing.T, v *Vault, hash string, c *Custodian) []byte {
	t.Helper()
	r, err := v.OpenBlob(hash, c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutRoundTrip(t *testing.T) {
	v, c := newTestVault(t)
	// Sizes around age's 64 KiB chunk boundary, where truncation and the
	// last-chunk flag matter.
	for _, n := range []int{0, 1, 1000, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3 * 64 << 10, 5 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			plain := randomBytes(n, uint64(n))
			ref, err := v.Put(t.Context(), bytes.NewReader(plain))
			if err != nil {
				t.Fatal(err)
			}
			blob, err := os.ReadFile(v.BlobPath(ref.Hash))
			if err != nil {
				t.Fatal(err)
			}
			if ref.Hash != sha(blob) || ref.Size != int64(len(blob)) || ref.PlainSHA256 != sha(plain) || ref.PlainSize != int64(n) {
				t.Errorf("ref %+v does not describe the blob (%d bytes) and plaintext (%d bytes)", ref, len(blob), n)
			}
			if want := filepath.Join(v.Dir(), "blobs", ref.Hash[:2], ref.Hash+".age"); v.BlobPath(ref.Hash) != want {
				t.Errorf("BlobPath %s, want %s", v.BlobPath(ref.Hash), want)
			}
			if n >= 32 && bytes.Contains(blob, plain[:32]) {
				t.Error("blob contains plaintext")
			}
			if got := readBlob(t, v, ref.Hash, c); !bytes.Equal(got, plain) {
				t.Errorf("round trip: got %d bytes, want %d", len(got), n)
			}
			r, err := v.OpenBlobRef(ref, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Errorf("OpenBlobRef: %v", err)
			}
			r.Close()
			if err := v.CheckBlob(ref); err != nil {
				t.Errorf("CheckBlob: %v", err)
			}
			// A blob is a plain age file: the age library alone decrypts it.
			ar, err := age.Decrypt(bytes.NewReader(blob), c.Identity)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(ar); err != nil || !bytes.Equal(got, plain) {
				t.Errorf("age.Decrypt: %v", err)
			}
		})
	}
	// Nothing but blobs is left in blobs/.
	if err := v.WalkBlobs(func(string, int64) error { return nil }); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(filepath.Join(v.Dir(), "blobs"))
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestPutSamePlaintextTwice(t *testing.T) {
	v, c := newTestVault(t)
	a, _ := v.Put(t.Context(), strings.NewReader("same photo"))
	b, _ := v.Put(t.Context(), strings.NewReader("same photo"))
	// age is randomized: duplicates are found by plaintext hash (the index),
	// not by blob name.
	if a.Hash == b.Hash || a.PlainSHA256 != b.PlainSHA256 {
		t.Errorf("refs %+v %+v", a, b)
	}
	for _, h := range []string{a.Hash, b.Hash} {
		if string(readBlob(t, v, h, c)) != "same photo" {
			t.Error("wrong plaintext")
		}
	}
}

func TestPutKeepsExistingBlob(t *testing.T) {
	v, _ := newTestVault(t)
	ref, err := v.Put(t.Context(), strings.NewReader("photo"))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(v.BlobPath(ref.Hash))
	// Commit the same ciphertext again: the existing file is kept, not
	// replaced, and the temp goes.
	blob, _ := os.ReadFile(v.BlobPath(ref.Hash))
	f, _ := os.CreateTemp(filepath.Join(v.Dir(), "blobs"), tempPattern())
	f.Write(blob)
	f.Close()
	if err := v.commitTemp(f.Name(), ref.Hash); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(v.BlobPath(ref.Hash))
	if !os.SameFile(before, after) {
		t.Error("existing blob was replaced")
	}
	if _, err := os.Stat(f.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Error("temp file not removed")
	}
}

func TestPutConcurrent(t *testing.T) {
	v, c := newTestVault(t)
	const workers, each = 8, 6
	refs := make(chan BlobRef, workers*each)
	plains := sync.Map{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				p := randomBytes(100<<10+w*each+i, uint64(1000+w*each+i))
				ref, err := v.Put(t.Context(), bytes.NewReader(p))
				if err != nil {
					t.Error(err)
					return
				}
				plains.Store(ref.Hash, p)
				refs <- ref
			}
		})
	}
	wg.Wait()
	close(refs)
	n := 0
	for ref := range refs {
		p, _ := plains.Load(ref.Hash)
		if !bytes.Equal(readBlob(t, v, ref.Hash, c), p.([]byte)) {
			t.Errorf("blob %s: wrong plaintext", ref.Hash)
		}
		n++
	}
	walked := 0
	if err := v.WalkBlobs(func(string, int64) error { walked++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != workers*each || walked != n {
		t.Errorf("put %d, walked %d, want %d", n, walked, workers*each)
	}
}

func TestPutCancelled(t *testing.T) {
	v, _ := newTestVault(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := v.Put(ctx, bytes.NewReader(randomBytes(1<<20, 1))); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(v.Dir(), "blobs"))
	if len(entries) != 0 {
		t.Errorf("cancelled Put left %v", entries)
	}
	// A reader that fails leaves nothing either.
	if _, err := v.Put(t.Context(), io.MultiReader(bytes.NewReader(make([]byte, 200<<10)), iotestErrReader{})); err == nil {
		t.Error("Put from a failing reader succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Join(v.Dir(), "blobs")); len(entries) != 0 {
		t.Errorf("failed Put left %v", entries)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("disk unplugged") }

// TestIngestSideCannotDecrypt shows the property the vault is for: with every
// file of VAULT in hand, and without the custodian file, no blob decrypts.
func TestIngestSideCannotDecrypt(t *testing.T) {
	v, c := newTestVault(t)
	ref, err := v.Put(t.Context(), strings.NewReader("original photo"))
	if err != nil {
		t.Fatal(err)
	}
	secret := c.Identity.String()
	scalar := bech32Data(t, secret)
	encodings := [][]byte{[]byte(secret), []byte(strings.ToLower(secret)), scalar, []byte(hex.EncodeToString(scalar))}

	var candidates []age.Identity
	err = filepath.WalkDir(v.Dir(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, e := range encodings {
			if bytes.Contains(b, e) {
				t.Errorf("%s holds the custodian secret key", path)
			}
		}
		// Anything in the vault that parses as an age identity, and every
		// word of every file as a passphrase.
		if ids, err := age.ParseIdentities(bytes.NewReader(b)); err == nil {
			candidates = append(candidates, ids...)
		}
		for _, w := range strings.Fields(string(b)) {
			if id, err := age.NewScryptIdentity(w); err == nil {
				candidates = append(candidates, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every key of the ingest host, used as an identity.
	for _, rs := range v.Config().Recipients {
		if _, err := age.ParseX25519Identity(strings.ToUpper(strings.Replace(rs, "age1", "AGE-SECRET-KEY-1", 1))); err == nil {
			t.Error("a recipient parses as an identity")
		}
	}
	if len(candidates) == 0 {
		// Nothing parses as an identity: still try the decryption path with
		// a fresh identity to prove the failure is the key, not the blob.
		id, _ := age.GenerateX25519Identity()
		candidates = append(candidates, id)
	}
	for _, id := range candidates {
		_, err := v.OpenBlob(ref.Hash, &Custodian{Identity: asX25519(id)})
		if id, ok := id.(*age.X25519Identity); ok {
			if !errors.Is(err, ErrWrongKey) {
				t.Errorf("identity %v from the vault: %v, want ErrWrongKey", id.Recipient(), err)
			}
			continue
		}
		f, _ := os.Open(v.BlobPath(ref.Hash))
		if _, err := age.Decrypt(f, id); err == nil {
			t.Error("an identity from the vault decrypts a blob")
		}
		f.Close()
	}
	// The control: the custodian file does decrypt it.
	if string(readBlob(t, v, ref.Hash, c)) != "original photo" {
		t.Error("custodian cannot decrypt")
	}
}

func asX25519(id age.Identity) *age.X25519Identity {
	if x, ok := id.(*age.X25519Identity); ok {
		return x
	}
	fresh, _ := age.GenerateX25519Identity()
	return fresh
}

// bech32Data decodes the data part of a bech32 string (without checking the
// checksum, which age already did): the raw 32-byte X25519 scalar of an
// AGE-SECRET-KEY-1 identity.
func bech32Data(t *testing.T, s string) []byte {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	s = strings.ToLower(s)
	data := s[strings.LastIndexByte(s, '1')+1 : len(s)-6]
	var out []byte
	acc, bits := 0, 0
	for _, ch := range data {
		v := strings.IndexRune(charset, ch)
		if v < 0 {
			t.Fatalf("bad bech32 %q", s)
		}
		acc = acc<<5 | v
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if len(out) != 32 {
		t.Fatalf("bech32 data is %d bytes", len(out))
	}
	return out
}

// TestBlobDamage damages a blob every way a disk, a copy or an attacker can
// and checks that reading it fails loudly, naming the blob and the fault,
// and never ends in a clean io.EOF.
func TestBlobDamage(t *testing.T) {
	v, c := newTestVault(t)
	// Four chunks: three full, the last one short.
	plain := randomBytes(3*64<<10+3000, 7)
	ref, err := v.Put(t.Context(), bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(v.BlobPath(ref.Hash))
	other, _ := v.Put(t.Context(), bytes.NewReader(randomBytes(len(plain), 8)))
	otherBlob, _ := os.ReadFile(v.BlobPath(other.Hash))
	const chunk = 64<<10 + 16
	lastChunk := 3000 + 16
	headerEnd := len(good) - 3*chunk - lastChunk - 16 // before the 16-byte nonce

	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	wrongKey, _ := age.GenerateX25519Identity()
	tests := []struct {
		name    string
		blob    []byte // nil: blob removed
		ident   *age.X25519Identity
		want    error // fault from OpenBlob
		wantRef error // fault from OpenBlobRef (size known); nil: same as want
	}{
		{"missing", nil, nil, ErrBlobMissing, nil},
		{"empty", good[:0], nil, ErrBlobTruncated, nil},
		{"cut in header", good[:40], nil, ErrBlobTruncated, nil},
		{"cut after header", good[:headerEnd], nil, ErrBlobTruncated, nil},
		{"cut at chunk boundary", good[:len(good)-lastChunk], nil, ErrBlobTruncated, nil},
		{"cut at first chunk boundary", good[:headerEnd+16+chunk], nil, ErrBlobTruncated, nil},
		{"cut inside last chunk", good[:len(good)-100], nil, ErrBlobCorrupted, ErrBlobTruncated},
		{"cut inside middle chunk", good[:headerEnd+16+chunk+1000], nil, ErrBlobCorrupted, ErrBlobTruncated},
		{"last byte missing", good[:len(good)-1], nil, ErrBlobCorrupted, ErrBlobTruncated},
		{"bit flip in header stanza", flip(60), nil, ErrBlobCorrupted, nil},
		{"bit flip in header mac", flip(headerEnd - 5), nil, ErrBlobCorrupted, nil},
		{"bit flip in nonce", flip(headerEnd + 3), nil, ErrBlobCorrupted, nil},
		{"bit flip in first chunk", flip(headerEnd + 16 + 100), nil, ErrBlobCorrupted, nil},
		{"bit flip in last chunk", flip(len(good) - 500), nil, ErrBlobCorrupted, nil},
		{"bit flip in last tag", flip(len(good) - 1), nil, ErrBlobCorrupted, nil},
		{"one byte appended", append(bytes.Clone(good), 0), nil, ErrBlobCorrupted, ErrBlobAppended},
		{"a chunk appended", append(bytes.Clone(good), good[headerEnd+16:headerEnd+16+chunk]...), nil, ErrBlobCorrupted, ErrBlobAppended},
		{"another valid blob under this name", otherBlob, nil, ErrBlobMismatch, nil},
		{"wrong key", good, wrongKey, ErrWrongKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := v.BlobPath(ref.Hash)
			if tt.blob == nil {
				os.Remove(path)
			} else if err := os.WriteFile(path, tt.blob, 0o640); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, good, 0o640)
			cust := c
			if tt.ident != nil {
				cust = &Custodian{Identity: tt.ident}
			}
			for _, variant := range []struct {
				name string
				open func() (io.ReadCloser, error)
				want error
			}{
				{"OpenBlob", func() (io.ReadCloser, error) { return v.OpenBlob(ref.Hash, cust) }, tt.want},
				{"OpenBlobRef", func() (io.ReadCloser, error) { return v.OpenBlobRef(ref, cust) }, cmp.Or(tt.wantRef, tt.want)},
			} {
				r, err := variant.open()
				var got []byte
				if err == nil {
					got, err = io.ReadAll(r)
					r.Close()
				}
				if err == nil {
					t.Fatalf("%s: read %d bytes and a clean EOF from a damaged blob", variant.name, len(got))
				}
				var be *BlobError
				if !errors.As(err, &be) || be.Hash != ref.Hash || !strings.Contains(err.Error(), ref.Hash) {
					t.Fatalf("%s: %v: want a BlobError naming %s", variant.name, err, ref.Hash)
				}
				t.Logf("%s: %v", variant.name, err)
				if !errors.Is(err, variant.want) {
					t.Errorf("%s: %v: want fault %q", variant.name, err, variant.want)
				}
				if variant.name == "OpenBlob" && tt.want == ErrBlobCorrupted && strings.Contains(tt.name, "cut") && !strings.Contains(err.Error(), "truncat") {
					t.Errorf("%s: %v: should mention possible truncation", variant.name, err)
				}
			}
			// Without any key, CheckBlob sees every change to the bytes.
			if tt.ident == nil {
				err := v.CheckBlob(ref)
				if err == nil || !errors.As(err, new(*BlobError)) {
					t.Errorf("CheckBlob: %v", err)
				}
			}
		})
	}
	if got := readBlob(t, v, ref.Hash, c); !bytes.Equal(got, plain) {
		t.Error("restored blob does not read back")
	}
	if _, err := v.OpenBlob("../../vault.json", c); err == nil || errors.As(err, new(*BlobError)) {
		t.Errorf("OpenBlob of a path: %v", err)
	}
	ref2 := ref
	ref2.PlainSHA256 = other.PlainSHA256
	r, _ := v.OpenBlobRef(ref2, c)
	if _, err := io.ReadAll(r); !errors.Is(err, ErrBlobMismatch) {
		t.Errorf("OpenBlobRef with another plaintext hash: %v", err)
	}
}

func TestWalkBlobs(t *testing.T) {
	v, _ := newTestVault(t)
	want := map[string]int64{}
	for i := range 20 {
		ref, err := v.Put(t.Context(), bytes.NewReader(randomBytes(i*1000, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		want[ref.Hash] = ref.Size
	}
	blobs := filepath.Join(v.Dir(), "blobs")
	var some string
	for h := range want {
		some = h
		break
	}
	wrongSub := "00"
	if some[:2] == "00" {
		wrongSub = "01"
	}
	os.MkdirAll(filepath.Join(blobs, wrongSub), 0o750)
	os.MkdirAll(filepath.Join(blobs, "zz"), 0o750)
	stray := []string{
		filepath.Join("blobs", some[:2], "notes.txt"),
		filepath.Join("blobs", wrongSub, some+".age"),
		filepath.Join("blobs", "README"),
		filepath.Join("blobs", "zz"),
	}
	// An upper-case name is stray too, where the file system tells it from
	// the blob's own name (not on Windows or macOS by default).
	upper := filepath.Join("blobs", some[:2], strings.ToUpper(some)+".age")
	if _, err := os.Stat(filepath.Join(v.Dir(), upper)); errors.Is(err, fs.ErrNotExist) {
		stray = append(stray, upper)
	}
	for _, s := range stray {
		if s == filepath.Join("blobs", "zz") {
			continue
		}
		os.WriteFile(filepath.Join(v.Dir(), s), []byte("x"), 0o644)
	}
	// Temps (of a live writer, this process) are not stray and not blobs.
	os.WriteFile(filepath.Join(blobs, atomicfile.TempPrefix+"put.1.h.1"), nil, 0o644)
	os.WriteFile(filepath.Join(blobs, some[:2], atomicfile.TempPrefix+"x"), nil, 0o644)

	got := map[string]int64{}
	err := v.WalkBlobs(func(hash string, size int64) error {
		got[hash] = size
		return nil
	})
	var se *StrayFilesError
	if !errors.As(err, &se) {
		t.Fatalf("WalkBlobs: %v, want a StrayFilesError", err)
	}
	if fmt.Sprint(sortedStrings(se.Paths)) != fmt.Sprint(sortedStrings(stray)) {
		t.Errorf("stray %v, want %v", se.Paths, stray)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("walked %d blobs, want %d", len(got), len(want))
	}
	stop := errors.New("stop")
	n := 0
	if err := v.WalkBlobs(func(string, int64) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("WalkBlobs with fn failing: %v after %d calls", err, n)
	}
}

func sortedStrings(s []string) []string {
	s = append([]string(nil), s...)
	slices.Sort(s)
	return s
}

// TestLargeStream round-trips a stream far larger than memory should ever
// hold and checks that the heap stays flat. A few hundred MB run by
// default; VEIL_TEST_GB=N runs N GiB.
func TestLargeStream(t *testing.T) {
	size := int64(300 << 20)
	if testing.Short() {
		size = 64 << 20
	}
	if gb := os.Getenv("VEIL_TEST_GB"); gb != "" {
		var n int64
		fmt.Sscan(gb, &n)
		size = n << 30
	}
	v, c := newTestVault(t)
	m := &heapMeter{}
	m.sample()
	base := m.max
	src := &genReader{left: size, rng: rand.NewChaCha8([32]byte{42}), meter: m}
	ref, err := v.Put(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if ref.PlainSize != size {
		t.Fatalf("PlainSize %d, want %d", ref.PlainSize, size)
	}
	r, err := v.OpenBlobRef(ref, c)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	want := sha256.New()
	io.Copy(want, &genReader{left: size, rng: rand.NewChaCha8([32]byte{42})})
	if _, err := io.CopyBuffer(io.MultiWriter(h, meterWriter{m}), r, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) || hex.EncodeToString(want.Sum(nil)) != ref.PlainSHA256 {
		t.Error("plaintext differs after round trip")
	}
	// The heap may hold a few chunk buffers and their garbage, never a
	// share of the stream.
	if grew := m.max - base; grew > 32<<20 {
		t.Errorf("heap grew by %d MB while streaming %d MB", grew>>20, size>>20)
	}
	t.Logf("%d MB streamed; heap peak %d MB above start", size>>20, (m.max-base)>>20)
}

// heapMeter records the largest live heap seen.
type heapMeter struct {
	max   uint64
	count int
}

func (m *heapMeter) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.max = max(m.max, ms.HeapAlloc)
}

// tick samples every 16 MiB of progress: ReadMemStats stops the world.
func (m *heapMeter) tick(n int) {
	m.count += n
	if m.count >= 16<<20 {
		m.count = 0
		m.sample()
	}
}

type meterWriter struct{ m *heapMeter }

func (w meterWriter) Write(p []byte) (int, error) { w.m.tick(len(p)); return len(p), nil }

type genReader struct {
	left  int64
	rng   *rand.ChaCha8
	meter *heapMeter
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.left)]
	g.rng.Read(p)
	g.left -= int64(len(p))
	if g.meter != nil {
		g.meter.tick(len(p))
	}
	return len(p), nil
}

// TestOpenReadOnlyLeavesTemps: Open removes a dead writer's temporary blob;
// OpenReadOnly, for auditors, leaves it (and everything else) alone.
func TestOpenReadOnlyLeavesTemps(t *testing.T) {
	v, _ := newTestVault(t)
	// A pid that cannot be running: above the kernel's pid_max.
	dead := strings.Replace(tempPattern(), strconv.Itoa(os.Getpid()), "99999999", 1)
	f, err := os.CreateTemp(filepath.Join(v.Dir(), "blobs"), dead)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := OpenReadOnly(v.Dir()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Name()); err != nil {
		t.Fatalf("OpenReadOnly removed a temporary file: %v", err)
	}
	w, err := Open(v.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Name()); !errors.Is(err, os.ErrNotExist) || len(w.CleanedTemps()) != 1 {
		t.Fatalf("Open left a dead writer's temporary file: %v, cleaned %v", err, w.CleanedTemps())
	}
}
