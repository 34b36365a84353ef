package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// countFiles counts the regular files under dir whose names end in ext.
func countFiles(t *testing.T, dir, ext string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ext) {
			n++
		}
		return nil
	})
	return n
}

// copyDir copies the folder src to dst, as a backup job or cp -a does.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// start runs New as the next nightly ingest does, and returns its error;
// a pipeline that starts is run over the inbox.
func (e *env) start(t *testing.T) error {
	t.Helper()
	e.events = nil
	p, err := New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = p.Run(t.Context(), []string{e.inbox}, func(ev Event) { e.events = append(e.events, ev) })
	return err
}

// unproven is what the refusal says of unlogged files no note proves debris.
const unproven = "2 blobs and 2 released files are named by no record of the log, and no unfinished batch of this host left them"

// TestRollbackRefused is red team poc7: someone who can write the vault
// folder (no keys) keeps a copy of log/ from day 1 and puts it back on day
// 2. The next ingest removed every blob and released file the old log does
// not name. Now it refuses (exit 3 class), whatever else was put back with
// the log, and removes nothing.
func TestRollbackRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		also func(e *env, day1 string) // what else the attacker does
		want [2]string                 // in the refusal of the first and second run
	}{
		{"log only", func(*env, string) {}, [2]string{"the log has 2 records, but this host last committed 4: it was rolled back", "this host last committed"}},
		{"log, and the lookup table removed", func(e *env, _ string) {
			os.Remove(filepath.Join(e.v.IndexDir(), "ingest.tab"))
		}, [2]string{unproven, unproven}},
		{"log and index/ both from day 1", func(e *env, day1 string) {
			os.RemoveAll(e.v.IndexDir())
			copyDir(t, filepath.Join(day1, "index"), e.v.IndexDir())
		}, [2]string{"index.csv was changed by someone", unproven}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			e := newEnv(t)
			put(t, e.inbox, "Ann Able/before/IMG_1.jpg", sample(t, "phone-rotated6.jpg"))
			if _, err := e.run(t, Options{}); err != nil {
				t.Fatal(err)
			}
			day1 := t.TempDir()
			copyDir(t, e.v.LogDir(), filepath.Join(day1, "log"))
			copyDir(t, e.v.IndexDir(), filepath.Join(day1, "index"))
			put(t, e.inbox, "Bob Baker/before/IMG_2.png", sample(t, "clinic.png"))
			put(t, e.inbox, "Cy Cole/after/IMG_3.webp", sample(t, "rose-exif.webp"))
			if _, err := e.run(t, Options{}); err != nil {
				t.Fatal(err)
			}
			blobs, released := countFiles(t, e.v.Dir(), ".age"), countFiles(t, e.release, "")
			if blobs != 3 {
				t.Fatalf("%d blobs after day 2", blobs)
			}

			os.RemoveAll(e.v.LogDir())
			copyDir(t, filepath.Join(day1, "log"), e.v.LogDir())
			tc.also(e, day1)
			put(t, e.inbox, "Dee Dunn/before/IMG_4.jpg", sample(t, "phone-rotated6.jpg"))
			for run := range 2 { // refused, and refused again
				err := e.start(t)
				if !errors.Is(err, manifest.ErrInconsistent) || !strings.Contains(err.Error(), tc.want[run]) {
					t.Fatalf("run %d after the rollback: %v; want a refusal saying %q", run+1, err, tc.want[run])
				}
				if b := countFiles(t, e.v.Dir(), ".age"); b != blobs {
					t.Errorf("run %d: %d blobs, had %d", run+1, b, blobs)
				}
				if r := countFiles(t, e.release, ""); r < released {
					t.Errorf("run %d: %d files in the release folder, had %d", run+1, r, released)
				}
				if _, err := os.Stat(filepath.Join(e.inbox, "Dee Dunn/before/IMG_4.jpg")); err != nil {
					t.Errorf("run %d took the new photo into a rolled-back vault: %v", run+1, err)
				}
				if e.count(Ingested) != 0 {
					t.Errorf("run %d ingested %d photos", run+1, e.count(Ingested))
				}
			}
		})
	}
}

// TestSwapRefused is red team poc8: someone who can write the vault folder
// makes a vault of their own with veil init and moves its vault.json,
// auditor.pub, keys/, log/ and index/ into the real vault. The next ingest
// reported index.csv, ingested the new photo encrypted to the attacker's
// key, and removed the real blob. Now it refuses before taking anything,
// and removes nothing — also when the attacker's vault has ingested before
// and so brings a clean lookup table.
func TestSwapRefused(t *testing.T) {
	for _, used := range []bool{false, true} {
		t.Run(map[bool]string{false: "fresh", true: "used"}[used], func(t *testing.T) {
			e := newEnv(t)
			put(t, e.inbox, "Ann Able/before/IMG_1.jpg", sample(t, "phone-rotated6.jpg"))
			if _, err := e.run(t, Options{}); err != nil {
				t.Fatal(err)
			}
			realBlobs := countFiles(t, e.v.Dir(), ".age")

			dir := t.TempDir()
			fake, err := custody.Init(filepath.Join(dir, "fake"), filepath.Join(dir, "attacker.age"), vault.InitOptions{Passphrase: []byte("attacker")})
			if err != nil {
				t.Fatal(err)
			}
			if used {
				f := &env{v: fake, inbox: filepath.Join(dir, "inbox"), release: filepath.Join(dir, "release")}
				put(t, f.inbox, "Zed/before/z.png", sample(t, "clinic.png"))
				if _, err := f.run(t, Options{}); err != nil {
					t.Fatal(err)
				}
				f.held.Release()
			}
			aside := filepath.Join(dir, "real")
			os.Mkdir(aside, 0o700)
			for _, name := range []string{"vault.json", "auditor.pub", "keys", "log", "index"} {
				if err := os.Rename(filepath.Join(e.v.Dir(), name), filepath.Join(aside, name)); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(filepath.Join(fake.Dir(), name), filepath.Join(e.v.Dir(), name)); err != nil {
					t.Fatal(err)
				}
			}
			if e.v, err = vault.Open(e.v.Dir()); err != nil {
				t.Fatal(err)
			}
			put(t, e.inbox, "Bob Baker/before/IMG_2.png", sample(t, "clinic.png"))
			for run := range 2 {
				err := e.start(t)
				if !errors.Is(err, manifest.ErrInconsistent) {
					t.Fatalf("run %d after the swap: %v; want a refusal", run+1, err)
				}
				t.Logf("run %d: %v", run+1, err)
				if b := countFiles(t, e.v.Dir(), ".age"); b != realBlobs {
					t.Errorf("run %d: %d blobs, want the %d real ones and nothing encrypted to the attacker", run+1, b, realBlobs)
				}
				if _, err := os.Stat(filepath.Join(e.inbox, "Bob Baker/before/IMG_2.png")); err != nil {
					t.Errorf("run %d took the new photo: %v", run+1, err)
				}
			}
		})
	}
}

// TestForkedLogRefused: a log as long as the one this host committed, and
// signed by the same key, whose records differ (another copy of the same
// vault that went its own way) is refused too: the check is the root of
// the log's tree at the size this host committed, not its length.
func TestForkedLogRefused(t *testing.T) {
	e, other := newEnv(t), newEnv(t) // copies of one vault
	put(t, e.inbox, "Ann Able/before/IMG_1.jpg", sample(t, "phone-rotated6.jpg"))
	put(t, other.inbox, "Bob Baker/before/IMG_2.png", sample(t, "clinic.png"))
	for _, x := range []*env{e, other} {
		if _, err := x.run(t, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	other.held.Release()
	os.RemoveAll(e.v.LogDir())
	copyDir(t, other.v.LogDir(), e.v.LogDir())
	err := e.start(t)
	var re *RollbackError
	if !errors.As(err, &re) || !errors.Is(err, manifest.ErrInconsistent) || !strings.Contains(err.Error(), "are not the ones this host committed") {
		t.Fatalf("start on a forked log: %v", err)
	}
	if n := countFiles(t, e.v.Dir(), ".age"); n != 1 {
		t.Errorf("%d blobs, want Ann's", n)
	}
}
