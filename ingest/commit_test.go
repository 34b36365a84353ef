package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/vault"
)

// TestUnremovedSourceReported: a committed source that cannot be removed
// is still in the inbox with all its metadata; the run must say so, with
// the path staff need to find it (issue 14, finding 1: the warning was set
// on a copy of the batch entry and never shown).
func TestUnremovedSourceReported(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	put(t, e.inbox, "Bob/after/b.png", sample(t, "clinic.png"))
	folder := filepath.Join(e.inbox, "Ann", "before")
	sum, err := e.run(t, Options{Workers: 1, Hook: func(s Step, _ string) error {
		if s == StepRemove && !exists(folder+".moved") {
			// The folder is swapped for a file between the commit and
			// the removal, so removing Ann's photo fails (as root too,
			// which a read-only folder would not stop).
			if err := os.Rename(folder, folder+".moved"); err != nil {
				return err
			}
			return os.WriteFile(folder, []byte("not a folder"), 0o644)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ingested != 2 || sum.Unremoved != 1 || e.count(Unremoved) != 1 {
		t.Fatalf("summary %+v, events %+v", sum, e.events)
	}
	for _, ev := range e.events {
		if ev.Kind == Unremoved && (ev.Path != filepath.Join(e.inbox, "Ann/before/a.jpg") || !strings.Contains(ev.Message, "could not be removed") || ev.Photo != "") {
			t.Errorf("unremoved event %+v", ev)
		}
	}
	if exists(filepath.Join(e.inbox, "Bob/after/b.png")) {
		t.Error("Bob's committed source was not removed")
	}
	e.verify(t)
}

// TestNewRequiresLock: a pipeline that changes the vault starts only with
// the held lock of that very vault; a dry run needs none.
func TestNewRequiresLock(t *testing.T) {
	e := newEnv(t)
	other := newVault(t)
	otherLock, err := vault.AcquireLock(context.Background(), other.Dir(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer otherLock.Release()
	released, err := vault.AcquireLock(context.Background(), e.v.Dir(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	released.Release()
	for name, l := range map[string]*vault.Lock{"no lock": nil, "released": released, "another vault's": otherLock} {
		if p, err := New(e.v, l, Options{Release: e.release}); !errors.Is(err, ErrNotLocked) {
			if p != nil {
				p.Close()
			}
			t.Errorf("%s: %v, want ErrNotLocked", name, err)
		}
	}
	if exists(e.release) {
		t.Error("a refused pipeline created the release folder")
	}
	p, err := New(e.v, nil, Options{Release: e.release, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p, err = New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}
