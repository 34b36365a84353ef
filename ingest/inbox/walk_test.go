package inbox

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// An unreadable folder is reported once and its siblings are still walked
// (it used to end the walk of its parent). Root reads any folder, so as root
// the test runs itself again as an unprivileged user, with setpriv.
func TestWalkContinuesPastUnreadableFolder(t *testing.T) {
	root := os.Getenv("VEIL_TEST_WALK_ROOT")
	if root == "" {
		root = t.TempDir()
		for _, p := range []string{"a/before/1.jpg", "b/before/2.jpg", "c/before/3.jpg", "d/before/4.jpg"} {
			full := filepath.Join(root, filepath.FromSlash(p))
			os.MkdirAll(filepath.Dir(full), 0o755)
			os.WriteFile(full, []byte("x"), 0o644)
		}
		os.Chmod(filepath.Join(root, "b"), 0)
		if os.Geteuid() == 0 {
			setpriv, err := exec.LookPath("setpriv")
			if err != nil {
				t.Skip("running as root without setpriv: cannot make a folder unreadable")
			}
			for d := root; d != "/"; d = filepath.Dir(d) {
				os.Chmod(d, 0o755) // t.TempDir's folders are 0700
			}
			cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
				os.Args[0], "-test.run=^TestWalkContinuesPastUnreadableFolder$")
			cmd.Env = append(os.Environ(), "VEIL_TEST_WALK_ROOT="+root)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("as nobody: %v\n%s", err, out)
			}
			return
		}
	}
	bad := filepath.Join(root, "b")

	var files, errs []string
	err := Walk(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, path)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	want := []string{"a/before/1.jpg", "c/before/3.jpg", "d/before/4.jpg"}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Fatalf("walked %v, want %v", files, want)
	}
	if len(errs) != 1 || errs[0] != bad {
		t.Fatalf("errors for %v, want one for %s", errs, bad)
	}
}

func TestSkipNames(t *testing.T) {
	for name, skip := range map[string]bool{
		"IMG_0001.jpg": false, "photo.JPG": false,
		".DS_Store": true, "IMG_0001.jpg.part": true, "~$doc.jpg": true, "Thumbs.db": true,
		"a.jpg.crdownload": true, "x.tmp": true, "x.sb-1234": true,
	} {
		if SkipFile(name) != skip {
			t.Errorf("SkipFile(%q) = %v", name, !skip)
		}
	}
	if !SkipDir(QuarantineDir) || SkipDir("Jane Doe") {
		t.Error("SkipDir")
	}
}

func TestTempAndSystemNames(t *testing.T) {
	for name, want := range map[string]bool{
		"IMG_0001.jpg": false, "Thumbs.db": true, "desktop.ini": true, ".DS_Store": true,
		"IMG_0001.jpg.part": true, "photo.crdownload": true, "~$notes.docx": true,
		"IMG_0001.JPG": false, "thumbs.db.jpg": false,
	} {
		if got := SkipFile(name); got != want {
			t.Errorf("SkipFile(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestWalk: Walk visits what filepath.WalkDir visits (in another
// order), reads big folders in chunks, and honours fs.SkipDir.
func TestWalk(t *testing.T) {
	root := t.TempDir()
	want := map[string]bool{".": true}
	for i := range 700 {
		p := fmt.Sprintf("big/f%03d", i)
		put(t, root, p)
		want[p] = true
	}
	for _, p := range []string{"a/b/c.jpg", "a/d.jpg", "skip/x.jpg", "e.jpg"} {
		put(t, root, p)
		want[p] = true
	}
	want["big"], want["a"], want["a/b"], want["skip"] = true, true, true, true
	delete(want, "skip/x.jpg")
	got := map[string]bool{}
	err := Walk(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if got[rel] {
			t.Errorf("%s visited twice", rel)
		}
		got[rel] = true
		if rel == "skip" {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("visited %d entries, want %d", len(got), len(want))
	}
	if err := Walk(filepath.Join(root, "missing"), func(path string, d fs.DirEntry, err error) error { return err }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
}

func put(t *testing.T, root, rel string) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A folder swapped for a symbolic link after its parent was listed (red
// team PoC 2: a patient folder swapped for a link to the vault) is reported
// once, wrapping ErrLinkedFolder, and nothing behind the link is visited.
// fn is called for the folder before the walk opens it: the swap happens
// there, between the listing and the open, every time.
func TestWalkRefusesFolderSwappedForLink(t *testing.T) {
	for _, target := range []string{"abs", "../outside", "a"} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "inbox")
			outside := filepath.Join(dir, "outside")
			put(t, root, "a/before/1.jpg")
			put(t, outside, "log/records")
			if err := os.MkdirAll(filepath.Join(root, "z"), 0o755); err != nil {
				t.Fatal(err)
			}
			link := target
			if target == "abs" {
				link = outside
			}
			var visited []string
			var errs []error
			err := Walk(root, func(path string, d fs.DirEntry, err error) error {
				rel, _ := filepath.Rel(root, path)
				rel = filepath.ToSlash(rel)
				if err != nil {
					errs = append(errs, err)
					return fs.SkipDir
				}
				visited = append(visited, rel)
				if rel == "z" {
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(link, path); err != nil {
						t.Skipf("no symbolic links here: %v", err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range visited {
				if strings.HasPrefix(v, "z/") {
					t.Errorf("visited %s behind the link", v)
				}
			}
			if len(errs) != 1 || !errors.Is(errs[0], ErrLinkedFolder) {
				t.Errorf("errors %v, want one wrapping ErrLinkedFolder", errs)
			}
		})
	}
}

// WalkRoot gives paths relative to the root and never leaves it: a
// quarantine folder that is a link is visited as the link, not walked.
func TestWalkRootStaysInside(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "inbox")
	put(t, root, ".quarantine/a/1.jpg")
	put(t, dir, "release/x.jpg")
	if err := os.Symlink(filepath.Join(dir, "release"), filepath.Join(root, ".quarantine", "b")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[string]bool{}
	err = WalkRoot(r, QuarantineDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		got[filepath.ToSlash(path)] = d.IsDir()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{".quarantine": true, ".quarantine/a": true, ".quarantine/a/1.jpg": false, ".quarantine/b": false}
	if !maps.Equal(got, want) {
		t.Errorf("visited %v, want %v", got, want)
	}
}
