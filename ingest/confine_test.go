package ingest

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listTree lists every file and folder under dir with its contents, to show
// that a run changed nothing there.
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = "/"
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// symlink makes a link, or skips the test where links need privileges.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

// theOne returns the one event of kind, failing the test unless there is
// exactly one.
func (e *env) theOne(t *testing.T, kind EventKind) Event {
	t.Helper()
	var found []Event
	for _, ev := range e.events {
		if ev.Kind == kind {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s events, want 1: %+v", len(found), kind, e.events)
	}
	return found[0]
}

// Red team PoC 1: staff, who can write only in the inbox, plant a link in
// its quarantine (the patient's folder there, or the quarantine itself) to
// the release folder or anywhere else. Quarantine used to follow it: the
// photo and its reason file, which names the patient, landed where release
// readers read. Now the link is never written through: the file stays in
// the inbox, stuck, with one line saying why.
func TestQuarantineRefusesLink(t *testing.T) {
	for _, tc := range []struct{ name, link, target string }{
		{"patient folder to the release folder", ".quarantine/Jane Doe (483920)", "release"},
		{"quarantine to the release folder", ".quarantine", "release"},
		{"patient folder elsewhere", ".quarantine/Jane Doe (483920)", "elsewhere"},
		{"patient folder to the inbox", ".quarantine/Jane Doe (483920)", "../Jane Doe (483920)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if err := os.MkdirAll(e.inbox, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := e.run(t, Options{}); err != nil { // makes the release folder
				t.Fatal(err)
			}
			elsewhere := filepath.Join(filepath.Dir(e.inbox), "elsewhere")
			put(t, elsewhere, "keep.txt", []byte("keep"))
			const src = "Jane Doe (483920)/misc/JaneDoe_1985-03-02_breast.jpg"
			put(t, e.inbox, src, []byte("x"))
			link := filepath.Join(e.inbox, filepath.FromSlash(tc.link))
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				t.Fatal(err)
			}
			target := filepath.FromSlash(tc.target)
			if !strings.HasPrefix(tc.target, "..") {
				target = filepath.Join(filepath.Dir(e.inbox), target)
			}
			symlink(t, target, link)
			release, other := listTree(t, e.release), listTree(t, elsewhere)
			if _, err := e.run(t, Options{}); err != nil {
				t.Fatal(err)
			}
			if got := listTree(t, e.release); !maps.Equal(got, release) {
				t.Errorf("release folder changed: %v, was %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(release)))
			}
			if got := listTree(t, elsewhere); !maps.Equal(got, other) {
				t.Errorf("folder behind the link changed: %v, was %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(other)))
			}
			if got := listTree(t, filepath.Join(e.inbox, "Jane Doe (483920)")); len(got) != 3 || got["misc/JaneDoe_1985-03-02_breast.jpg"] != "x" {
				t.Errorf("patient folder in the inbox: %v, want the photo alone", slices.Sorted(maps.Keys(got)))
			}
			ev := e.theOne(t, Stuck)
			if !strings.HasSuffix(ev.Path, filepath.FromSlash(src)) || !strings.Contains(ev.Message, "is a symbolic link, which veil never reads or writes through") {
				t.Errorf("stuck event %+v", ev)
			}
			if n := e.count(Quarantined); n != 0 {
				t.Errorf("%d quarantined", n)
			}
		})
	}
}

// Red team PoC 2: after the walk listed a patient folder, staff swap it for
// a link to the vault; quarantine and the removal of committed sources and
// emptied folders acted on the inbox path, so they followed the link (the
// vault's log went into the quarantine, and its emptied folder was
// removed). Options.Hook swaps the folder just before the step, every time.
// Nothing behind the link may be moved or removed now, and the file is
// reported with one line.
func TestSwappedFolderNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name string
		step Step
		data func(t *testing.T) []byte
		kind EventKind
		msg  string
	}{
		{"quarantine", StepQuarantine, func(*testing.T) []byte { return []byte("not a photo") }, Stuck, "should be quarantined (format) but cannot be moved there: "},
		{"source removal", StepRemove, func(t *testing.T) []byte { return sample(t, "clinic.png") }, Unremoved, "committed, but the source could not be removed: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			vaultDir := filepath.Join(filepath.Dir(e.inbox), "vault-like")
			put(t, e.inbox, "Z/before/records", tc.data(t))
			put(t, vaultDir, "keep.txt", []byte("keep"))
			swapped := false
			hook := func(s Step, path string) error {
				if s != tc.step || swapped {
					return nil
				}
				swapped = true
				// The photo's folder goes elsewhere with the photo in it
				// (the very file veil listed), and a link takes its place.
				z := filepath.Join(e.inbox, "Z")
				if err := os.Rename(z, filepath.Join(vaultDir, "log")); err != nil {
					t.Fatal(err)
				}
				symlink(t, filepath.Join(vaultDir, "log"), z)
				return nil
			}
			if _, err := e.run(t, Options{Hook: hook, Workers: 1}); err != nil {
				t.Fatal(err)
			}
			if !swapped {
				t.Fatal("the hook never ran")
			}
			want := map[string]string{".": "/", "keep.txt": "keep", "log": "/", "log/before": "/", "log/before/records": string(tc.data(t))}
			if got := listTree(t, vaultDir); !maps.Equal(got, want) {
				t.Errorf("behind the link: %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
			if q := listTree(t, filepath.Join(e.inbox, ".quarantine")); len(q) > 0 {
				for p, c := range q {
					if c != "/" {
						t.Errorf("%s in the quarantine", p)
					}
				}
			}
			ev := e.theOne(t, tc.kind)
			if !strings.HasPrefix(ev.Message, tc.msg+errLinkedPath.Error()) || strings.Count(ev.Message, "\n") != 0 {
				t.Errorf("event %+v, want a message starting %q", ev, tc.msg)
			}
			t.Log(ev.Message)
		})
	}
}

// veil quarantine list and retry: a quarantine that is a link is refused, a
// link in it is listed as what it is (never followed), and a folder of the
// quarantine swapped for a link to the release folder between the listing
// and the retry does not bring the release folder's files into the inbox.
func TestRetryRefusesLink(t *testing.T) {
	dir := t.TempDir()
	in, release := filepath.Join(dir, "inbox"), filepath.Join(dir, "release")
	put(t, release, "Ann/before/a.png", []byte("released"))
	put(t, release, "Ann/before/a.png"+ReasonSuffix, []byte("veil quarantined this file (phase):\nx\n\n"+reasonFrom+"Ann/before/a.png\n"))
	put(t, in, "x", nil)
	symlink(t, release, filepath.Join(in, ".quarantine"))
	was := listTree(t, release)
	if _, err := ListQuarantine(in); !errors.Is(err, errQuarantineLink) {
		t.Errorf("list of a linked quarantine: %v", err)
	}
	if _, err := RetryAll(RetryRequest{Inboxes: []string{in}}, func(QuarantinedFile, string, error) { t.Error("retried") }); !errors.Is(err, errQuarantineLink) {
		t.Errorf("retry of a linked quarantine: %v", err)
	}

	os.Remove(filepath.Join(in, ".quarantine"))
	put(t, in, ".quarantine/Ann/before/a.png", []byte("quarantined"))
	symlink(t, release, filepath.Join(in, ".quarantine", "Bob"))
	r, err := os.OpenRoot(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	qs, err := listQuarantine(r, in)
	if err != nil || len(qs) != 2 || qs[0].Rel != "Ann/before/a.png" || qs[1].Rel != "Bob" || !qs[1].Unknown {
		t.Fatalf("listed %+v, %v", qs, err)
	}
	if err := os.RemoveAll(filepath.Join(in, ".quarantine", "Ann")); err != nil {
		t.Fatal(err)
	}
	symlink(t, release, filepath.Join(in, ".quarantine", "Ann"))
	if _, err := retry(r, qs[0]); !errors.Is(err, errQuarantineLink) {
		t.Errorf("retry through a link: %v", err)
	}
	if _, err := retry(r, qs[1]); err != nil {
		t.Errorf("retry of the link itself: %v", err)
	}
	if got := listTree(t, release); !maps.Equal(got, was) {
		t.Errorf("release folder changed: %v, was %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(was)))
	}
	if exists(filepath.Join(in, "Ann")) {
		t.Error("a file came into the inbox through the link")
	}
}
