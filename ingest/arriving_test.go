package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func arrivingSamples(t *testing.T) map[string][]byte {
	heic, err := os.ReadFile(filepath.Join("..", "photo", "testdata", "heif", "phone-irot.heic"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"a.jpg": sample(t, "phone-rotated6.jpg"), "b.png": sample(t, "clinic.png"),
		"c.webp": sample(t, "rose-exif.webp"), "d.heic": heic}
}

// TestEndsEarly: each format's own end, found in whole files and missed
// in files cut short anywhere past their head.
func TestEndsEarly(t *testing.T) {
	for name, data := range arrivingSamples(t) {
		if endsEarly(bytes.NewReader(data), int64(len(data))) {
			t.Errorf("%s: the whole file ends early", name)
		}
		for _, frac := range []float64{0.3, 0.6, 0.99} {
			n := int64(float64(len(data)) * frac)
			if !endsEarly(bytes.NewReader(data[:n]), n) {
				t.Errorf("%s cut at %d of %d bytes: not found to end early", name, n, len(data))
			}
		}
	}
}

// TestStillArriving: a photo cut short and written to moments ago is a copy
// still arriving (a pause of an SMB copy longer than --settle): left for the
// next run, not quarantined. Once its last change is older than
// arrivingWindow, it is damaged and quarantined (issue 15, item 7).
func TestStillArriving(t *testing.T) {
	e := newEnv(t)
	samples := arrivingSamples(t)
	for name, data := range samples {
		put(t, e.inbox, "Ann/before/"+name, data[:len(data)*2/3])
	}
	sum, err := e.run(t, Options{})
	if err != nil || sum.Left != len(samples) || sum.Quarantined != 0 || sum.Ingested != 0 || sum.LeftBehind() != 0 {
		t.Fatalf("young: %+v, %v, %+v", sum, err, e.events)
	}
	for _, ev := range e.events {
		if ev.Kind == Left && !bytes.Contains([]byte(ev.Message), []byte("ends early and was written to moments ago")) {
			t.Errorf("%s: %s", ev.Path, ev.Message)
		}
	}
	old := time.Now().Add(-arrivingWindow - time.Minute)
	for name := range samples {
		os.Chtimes(filepath.Join(e.inbox, "Ann", "before", name), old, old)
	}
	sum, err = e.run(t, Options{})
	if err != nil || sum.Quarantined != len(samples) || sum.Left != 0 {
		t.Fatalf("old: %+v, %v, %+v", sum, err, e.events)
	}
	for _, ev := range e.events {
		if ev.Kind == Quarantined && ev.Reason != "damaged" {
			t.Errorf("%s: quarantined as %s", ev.Path, ev.Reason)
		}
	}
}
