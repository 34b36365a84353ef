package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veil-photo/veil/audit"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/vault"
)

// TestCrashTrials runs the real veil binary on a corpus and kills it with
// SIGKILL, at each step of the commit order (through the test-only
// VEIL_TEST_CRASH_AT hook) and at random moments; then it runs ingest again
// and checks what SPEC promises: every source is committed exactly once or
// still in the inbox, verify --release passes (no released file without a
// record, no record without its blob, no orphan), and no temporary file is
// left. VEIL_CRASH_TRIALS sets the number of random trials (default 16);
// scripts/crash-trials.sh runs hundreds.
func TestCrashTrials(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veil binary many times")
	}
	random := 16
	if s := os.Getenv("VEIL_CRASH_TRIALS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("VEIL_CRASH_TRIALS=%q", s)
		}
		random = n
	}
	h := newCrashHarness(t)

	var trials []string
	for _, s := range ingest.Steps {
		trials = append(trials, string(s)+":1", string(s)+":3")
	}
	for i := range random {
		trials = append(trials, "random:"+strconv.Itoa(i))
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("VEIL_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set VEIL_CRASH_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	killed := 0
	for _, trial := range trials {
		if h.trial(t, trial, rng) {
			killed++
		}
		if t.Failed() {
			t.Fatalf("trial %s failed; its files are in %s", trial, h.last)
		}
	}
	t.Logf("%d trials, %d killed mid-run", len(trials), killed)
	if killed < len(trials)/2 {
		t.Errorf("only %d of %d trials were killed mid-run: the corpus is too small to be caught in the act", killed, len(trials))
	}
}

type crashHarness struct {
	bin      string
	dir      string
	vault    string            // template vault
	corpus   string            // template inbox
	good     map[string]string // relative path -> sha256 of the files that must be ingested
	bad      string            // relative path of the file that must be quarantined
	cust     *vault.Custodian
	duration time.Duration // of an uninterrupted run
	last     string
}

func newCrashHarness(t *testing.T) *crashHarness {
	dir := t.TempDir()
	h := &crashHarness{dir: dir, bin: filepath.Join(dir, "veil"), vault: filepath.Join(dir, "vault"), corpus: filepath.Join(dir, "corpus"), good: map[string]string{}}
	build := exec.Command("go", "build", "-o", h.bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pass := filepath.Join(dir, "pass.txt")
	os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600)
	cust := filepath.Join(dir, "custodian.age")
	if out, err := exec.Command(h.bin, "init", "--vault", h.vault, "--custodian-out", cust, "--passphrase-file", pass).CombinedOutput(); err != nil {
		t.Fatalf("veil init: %v\n%s", err, out)
	}
	var err error
	if h.cust, err = vault.LoadCustodian(cust, []byte("correct horse battery staple")); err != nil {
		t.Fatal(err)
	}

	// The corpus: distinct small photos of three patients in two phases,
	// one file whose bytes repeat another's, and one that must be
	// quarantined.
	rng := rand.New(rand.NewPCG(1, 2))
	patients := []string{"Jane Doe", "Bob Roe", "Ann Öz"}
	phases := []string{"before", "post-op"}
	for i := range 24 {
		img := image.NewRGBA(image.Rect(0, 0, 48+rng.IntN(32), 32+rng.IntN(32)))
		for k := range img.Pix {
			img.Pix[k] = uint8(rng.IntN(256))
		}
		img.Set(0, 0, color.RGBA{uint8(i), 0, 0, 255})
		var buf bytes.Buffer
		ext := ".jpg"
		if i%4 == 3 {
			png.Encode(&buf, img)
			ext = ".png"
		} else {
			jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
		}
		rel := fmt.Sprintf("%s/%s/IMG_%04d%s", patients[i%3], phases[i/3%2], i, ext)
		h.write(t, rel, buf.Bytes())
		if i == 5 {
			h.write(t, "Bob Roe/before/copy of IMG_0005"+ext, buf.Bytes())
		}
	}
	h.bad = "Jane Doe/unknown-phase/x.jpg"
	h.write(t, h.bad, []byte("\xff\xd8\xff not really"))

	// Calibrate the random kills on uninterrupted runs: the fastest of
	// three, since the first pays for a cold page cache and a kill drawn
	// beyond the end of a run catches nothing.
	for i := range 3 {
		_, inbox, release, vdir := h.fresh(t, "calibrate-"+strconv.Itoa(i))
		start := time.Now()
		if code, out := h.ingest(vdir, release, inbox, ""); code != exitQuarantined {
			t.Fatalf("calibration run: exit %d\n%s", code, out)
		}
		if d := time.Since(start); i == 0 || d < h.duration {
			h.duration = d
		}
	}
	t.Logf("an uninterrupted run of %d files takes %v", len(h.good)+1, h.duration)
	return h
}

func (h *crashHarness) write(t *testing.T, rel string, data []byte) {
	p := filepath.Join(h.corpus, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	h.good[rel] = hex.EncodeToString(sum[:])
}

// fresh copies the template vault and corpus for one trial.
func (h *crashHarness) fresh(t *testing.T, name string) (dir, inbox, release, vdir string) {
	dir = filepath.Join(h.dir, "trial-"+strings.ReplaceAll(name, ":", "-"))
	inbox, release, vdir = filepath.Join(dir, "inbox"), filepath.Join(dir, "release"), filepath.Join(dir, "vault")
	if err := os.CopyFS(inbox, os.DirFS(h.corpus)); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(vdir, os.DirFS(h.vault)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(vdir, "keys"), 0o700)
	h.last = dir
	return
}

// ingest runs veil ingest to the end and returns its exit status.
func (h *crashHarness) ingest(vdir, release, inbox, crashAt string) (int, string) {
	cmd := exec.Command(h.bin, "ingest", "--vault", vdir, "--out", release, "--settle", "0", "--workers", "3", inbox)
	if crashAt != "" {
		cmd.Env = append(os.Environ(), crashEnv+"="+crashAt)
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal()), string(out)
		}
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		return -1, err.Error()
	}
	return 0, string(out)
}

// trial runs one crash and the recovery run, checks the invariants and
// reports whether the first run was killed before it finished.
func (h *crashHarness) trial(t *testing.T, name string, rng *rand.Rand) bool {
	dir, inbox, release, vdir := h.fresh(t, name)
	killed := false
	if after, ok := strings.CutPrefix(name, "random:"); ok {
		_ = after
		cmd := exec.Command(h.bin, "ingest", "--vault", vdir, "--out", release, "--settle", "0", "--workers", "3", inbox)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(h.duration)))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			err := <-done
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					killed = true
				}
			}
		}
	} else {
		code, out := h.ingest(vdir, release, inbox, name)
		switch code {
		case -int(syscall.SIGKILL):
			killed = true
		case exitOK, exitQuarantined:
		default:
			t.Errorf("%s: first run exit %d\n%s", name, code, out)
		}
	}
	// Recovery: the next run must finish the job.
	code, out := h.ingest(vdir, release, inbox, "")
	if code != exitOK && code != exitQuarantined {
		t.Errorf("%s: recovery run exit %d\n%s", name, code, out)
		return killed
	}
	h.check(t, name, dir, inbox, release, vdir)
	return killed
}

func (h *crashHarness) check(t *testing.T, name, dir, inboxDir, release, vdir string) {
	v, err := vault.Open(vdir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Run(context.Background(), v, audit.Options{Release: release})
	if err != nil {
		t.Fatalf("%s: verify: %v", name, err)
	}
	for _, f := range rep.Findings {
		t.Errorf("%s: verify: %s", name, f)
	}

	// Every record, unsealed: which source it stands for.
	lt, err := tallyLog(v.LogDir(), inboxDir, h.cust.Identity)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	logged, ingested, quarantined, ingests := lt.logged, lt.ingested, lt.quarantined, lt.ingests
	for rel, sum := range h.good {
		if rel == h.bad {
			continue
		}
		if exists(filepath.Join(inboxDir, rel)) {
			t.Errorf("%s: %s is still in the inbox after the recovery run", name, rel)
		}
		if logged[rel] != 1 {
			t.Errorf("%s: %s is logged %d times, want exactly once", name, rel, logged[rel])
		}
		if ingested[sum] != 1 {
			t.Errorf("%s: the bytes of %s are ingested %d times, want once", name, rel, ingested[sum])
		}
	}
	if !exists(filepath.Join(inboxDir, inbox.QuarantineDir, filepath.FromSlash(h.bad))) {
		t.Errorf("%s: %s is not in quarantine", name, h.bad)
	}
	// Logged exactly once: a run killed between the move and the record
	// leaves it to the next run to log.
	if quarantined[h.bad] != 1 {
		t.Errorf("%s: %s has %d quarantine records, want 1", name, h.bad, quarantined[h.bad])
	}
	csv, err := os.ReadFile(filepath.Join(release, "index.csv"))
	if err != nil || strings.Count(string(csv), "\n") != ingests+1 {
		t.Errorf("%s: index.csv has %d lines for %d ingest records (%v)", name, strings.Count(string(csv), "\n"), ingests, err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(d.Name()) {
			t.Errorf("%s: temporary file left: %s", name, p)
		}
		return nil
	})
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
