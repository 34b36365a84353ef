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

// TestHostPin: with a host pin outside the vault folder, the first run
// pins the vault as found and says so; later runs refuse a vault whose
// parts were swapped for another's — even blobs/ and index/ with them,
// which leaves no trace inside the vault — or whose log and index/ were
// rolled back together, and change nothing.
func TestHostPin(t *testing.T) {
	for _, attack := range []string{"whole vault swapped", "log and index rolled back"} {
		t.Run(strings.ReplaceAll(attack, " ", "-"), func(t *testing.T) {
			e := newEnv(t)
			state := t.TempDir()
			pin, err := HostPinFile(state, e.v.Dir())
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Release: e.release, HostPin: pin}
			pass := func() (*Pipeline, error) {
				e.events = nil
				p, err := New(e.v, e.lock(t), opts)
				if err != nil {
					return nil, err
				}
				defer p.Close()
				_, err = p.Run(t.Context(), []string{e.inbox}, func(ev Event) { e.events = append(e.events, ev) })
				return p, err
			}
			put(t, e.inbox, "Ann Able/before/IMG_1.jpg", sample(t, "phone-rotated6.jpg"))
			p, err := pass()
			if err != nil || !strings.Contains(p.FirstPinned(), "pinned as found") {
				t.Fatalf("first run: %v; it says %q", err, p.FirstPinned())
			}
			day1 := t.TempDir()
			copyDir(t, e.v.LogDir(), filepath.Join(day1, "log"))
			copyDir(t, e.v.IndexDir(), filepath.Join(day1, "index"))
			put(t, e.inbox, "Bob Baker/before/IMG_2.png", sample(t, "clinic.png"))
			if p, err := pass(); err != nil || p.FirstPinned() != "" || e.count(Ingested) != 1 {
				t.Fatalf("second run: %v, %d ingested; it says %q", err, e.count(Ingested), p.FirstPinned())
			}

			switch attack {
			case "whole vault swapped":
				dir := t.TempDir()
				fake, err := custody.Init(filepath.Join(dir, "fake"), filepath.Join(dir, "attacker.age"), vault.InitOptions{Passphrase: []byte("attacker")})
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"vault.json", "auditor.pub", "keys", "log", "index", "blobs"} {
					os.Rename(filepath.Join(e.v.Dir(), name), filepath.Join(dir, "real-"+name))
					if err := os.Rename(filepath.Join(fake.Dir(), name), filepath.Join(e.v.Dir(), name)); err != nil {
						t.Fatal(err)
					}
				}
				os.Rename(e.release, filepath.Join(dir, "real-release"))
				if e.v, err = vault.Open(e.v.Dir()); err != nil {
					t.Fatal(err)
				}
			case "log and index rolled back":
				for _, name := range []string{"log", "index"} {
					os.RemoveAll(filepath.Join(e.v.Dir(), name))
					copyDir(t, filepath.Join(day1, name), filepath.Join(e.v.Dir(), name))
				}
			}
			put(t, e.inbox, "Cy Cole/after/IMG_3.webp", sample(t, "rose-exif.webp"))
			before, _ := os.ReadFile(pin)
			for run := range 2 {
				_, err := pass()
				var he *HostPinError
				if !errors.As(err, &he) || !errors.Is(err, manifest.ErrInconsistent) || !strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("run %d after the attack: %v; want a host pin refusal", run+1, err)
				}
				t.Logf("run %d: %v", run+1, err)
				if _, err := os.Stat(filepath.Join(e.inbox, "Cy Cole/after/IMG_3.webp")); err != nil {
					t.Errorf("run %d took the new photo", run+1)
				}
				if after, _ := os.ReadFile(pin); string(after) != string(before) {
					t.Errorf("run %d changed the pin", run+1)
				}
			}
		})
	}
}

// TestHostPinNeedsStateFolder: a state folder that does not exist fails
// the start, before anything is taken that the pin would not cover.
func TestHostPinNeedsStateFolder(t *testing.T) {
	e := newEnv(t)
	pin, _ := HostPinFile(filepath.Join(t.TempDir(), "missing"), e.v.Dir())
	_, err := New(e.v, e.lock(t), Options{Release: e.release, HostPin: pin})
	if err == nil || !strings.Contains(err.Error(), "state folder") {
		t.Fatalf("New with a missing state folder: %v", err)
	}
}
