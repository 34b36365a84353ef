package stripcopy

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/photo"
)

// samples copies the repository's sample photos into a folder named photos
// and returns that folder.
func samples(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "testdata", "photos"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, ctx context.Context, opts Options, paths ...string) ([]Event, error) {
	t.Helper()
	var evs []Event
	err := Run(ctx, opts, paths, func(ev Event) { evs = append(evs, ev) })
	sort.Slice(evs, func(i, j int) bool { return evs[i].Path < evs[j].Path })
	return evs, err
}

func TestRun(t *testing.T) {
	in := samples(t)
	out := filepath.Join(t.TempDir(), "out")
	os.WriteFile(filepath.Join(in, "notes.jpg"), []byte("patient list"), 0o644)
	opts := Options{OutDir: out, Workers: 2}

	evs, err := run(t, context.Background(), opts, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4: %+v", len(evs), evs)
	}
	for _, ev := range evs {
		if filepath.Base(ev.Path) == "notes.jpg" {
			if !errors.Is(ev.Err, photo.ErrUnsupported) || ev.Result != nil {
				t.Errorf("notes.jpg: %+v", ev)
			}
			continue
		}
		if ev.Err != nil {
			t.Fatalf("%s: %v", ev.Path, ev.Err)
		}
		if want := filepath.Join(out, "photos", filepath.Base(ev.Path)); ev.Out != want {
			t.Errorf("copy of %s is %s, want %s", ev.Path, ev.Out, want)
		}
		// The input carried metadata; its copy carries none.
		f, err := os.Open(ev.Out)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		rep, err := photo.Scan(f, fi.Size())
		f.Close()
		if err != nil || !rep.Clean() || len(ev.Result.Dropped) == 0 {
			t.Errorf("%s: copy not clean (%v, %+v) or nothing dropped from the input", ev.Out, err, rep)
		}
	}

	// A second run refuses every copy that exists, unless told to replace.
	evs, err = run(t, context.Background(), opts, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if filepath.Base(ev.Path) != "notes.jpg" && (!errors.Is(ev.Err, fs.ErrExist) || ev.Out == "") {
			t.Errorf("existing copy of %s: %+v", ev.Path, ev)
		}
	}
	opts.Replace = true
	evs, err = run(t, context.Background(), opts, in)
	if err != nil || evs[0].Err != nil {
		t.Fatalf("replace: %v %+v", err, evs)
	}

	// An output folder that holds the inputs never overwrites them.
	opts.OutDir = filepath.Dir(in)
	evs, err = run(t, context.Background(), opts, in)
	if err != nil || !errors.Is(evs[0].Err, ErrSameFile) {
		t.Fatalf("output onto input: %v %+v", err, evs)
	}
	assertNoTemps(t, out)
}

func TestRunCancelled(t *testing.T) {
	in := samples(t)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	evs, err := run(t, ctx, Options{OutDir: out, Workers: 2}, in)
	if !errors.Is(err, context.Canceled) || len(evs) != 0 {
		t.Fatalf("cancelled run: %v, %d events", err, len(evs))
	}
	assertNoTemps(t, out)
}

func TestRunOutDirError(t *testing.T) {
	in := samples(t)
	file := filepath.Join(in, "clinic.png")
	_, err := run(t, context.Background(), Options{OutDir: filepath.Join(file, "out"), Workers: 1}, in)
	var de *DirError
	if !errors.As(err, &de) || de.Op != "mkdir" {
		t.Fatalf("output folder below a file: %v", err)
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(d.Name()) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}
