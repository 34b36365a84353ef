package audit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-photo/veil/manifest"
)

func TestPin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.cp")
	if b, err := ReadPin(path); err != nil || b != nil {
		t.Fatalf("no pin file yet: %q, %v", b, err)
	}
	read := func() string {
		t.Helper()
		b, err := ReadPin(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// A log without a checkpoint pins nothing.
	if up, err := AdvancePin(path, &manifest.Report{}); err != nil || up.Wrote || read() != "" {
		t.Errorf("no checkpoint: %+v, %v", up, err)
	}
	// The first audit pins the checkpoint.
	rep := &manifest.Report{Checkpoint: &manifest.Checkpoint{N: 4}, CheckpointNote: []byte("note 4")}
	up, err := AdvancePin(path, rep)
	if want := (PinUpdate{To: 4, Wrote: true}); err != nil || up != want || read() != "note 4" {
		t.Errorf("first pin: %+v, %v; want %+v", up, err, want)
	}
	// A log that has not grown leaves the pin as it is.
	rep = &manifest.Report{Checkpoint: &manifest.Checkpoint{N: 4}, CheckpointNote: []byte("other 4"), Pinned: &manifest.Checkpoint{N: 4}}
	up, err = AdvancePin(path, rep)
	if want := (PinUpdate{Had: true, From: 4, To: 4}); err != nil || up != want || read() != "note 4" {
		t.Errorf("same size: %+v, %v; want %+v", up, err, want)
	}
	// A grown log advances it.
	rep = &manifest.Report{Checkpoint: &manifest.Checkpoint{N: 7}, CheckpointNote: []byte("note 7"), Pinned: &manifest.Checkpoint{N: 4}}
	up, err = AdvancePin(path, rep)
	if want := (PinUpdate{Had: true, From: 4, To: 7, Wrote: true}); err != nil || up != want || read() != "note 7" {
		t.Errorf("grown: %+v, %v; want %+v", up, err, want)
	}
	// A pin file that cannot be written is an error.
	if _, err := AdvancePin(filepath.Join(path, "sub", "cp"), rep); err == nil {
		t.Error("pin under a file: no error")
	}
	if err := os.Mkdir(filepath.Join(filepath.Dir(path), "dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPin(filepath.Join(filepath.Dir(path), "dir")); err == nil {
		t.Error("a folder read as a pin file: no error")
	}
}
