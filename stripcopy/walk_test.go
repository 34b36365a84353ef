package stripcopy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/veil-photo/veil/internal/filekind"
)

// TestWalkRules checks that a folder is walked by the inbox rules while a
// file the user names is always taken, and that copies keep cp -r names.
func TestWalkRules(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	for _, name := range []string{
		"b.jpg", "a.jpg", "sub/c.png",
		".hidden.jpg", "d.jpg.part", "Thumbs.db", // never photos
		".quarantine/q.jpg", ".git/x.jpg", "out/old.jpg", // folders not entered
	} {
		p := filepath.Join(in, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.jpg", filepath.Join(in, "link.jpg")); err != nil {
		t.Fatal(err)
	}
	named := filepath.Join(in, ".hidden.jpg")
	missing := filepath.Join(dir, "missing.jpg")

	var got []Input
	err := Walk(context.Background(), []string{in, named, missing}, filepath.Join(in, "out"), func(i Input) error {
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for _, i := range got {
		rels = append(rels, i.Rel)
	}
	want := []string{"in/a.jpg", "in/b.jpg", "in/link.jpg", "in/sub/c.png", ".hidden.jpg", "missing.jpg"}
	if !slices.Equal(rels, want) {
		t.Fatalf("walked %q, want %q", rels, want)
	}
	if got[1].Path != filepath.Join(in, "b.jpg") || got[1].Err != nil {
		t.Errorf("b.jpg: %+v", got[1])
	}
	if !errors.Is(got[2].Err, filekind.ErrSymlink) {
		t.Errorf("symlink: %v", got[2].Err)
	}
	if !errors.Is(got[5].Err, os.ErrNotExist) {
		t.Errorf("missing: %v", got[5].Err)
	}
}

// TestWalkStops checks that the walk ends with fn's error and with ctx.
func TestWalkStops(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.jpg", "b.jpg"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	stop := errors.New("stop")
	n := 0
	err := Walk(context.Background(), []string{dir}, "", func(Input) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn error: err %v after %d files", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n = 0
	err = Walk(ctx, []string{dir, dir}, "", func(Input) error { n++; return nil })
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("cancelled: err %v after %d files", err, n)
	}
}
