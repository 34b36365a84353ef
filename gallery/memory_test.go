package gallery

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestMemoryIsFlat builds a site of two 12 MP photos and then a site of
// five, with one worker, and compares the peak resident memory each build
// added. A streaming build holds one decoded photo (18 MB) at a time, so
// five photos peak about as high as two; a build that kept the decoded
// photos would add 54 MB more. The margin (two photos' worth) absorbs the
// garbage collector's timing. Linux only: it reads and resets the peak
// (VmHWM) through /proc.
func TestMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("makes seven 12 MP photos")
	}
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak resident memory here: %v", err)
	}
	fx := newFixture(t, nil)
	var photos [][]byte
	for i := range 7 {
		photos = append(photos, benchPhoto(t, uint64(i)))
	}
	for i, p := range photos {
		fx.add(t, sample{subject: min(i/2, 1), phase: "after"}, p)
	}
	fx.writeIndex(t)
	photos = nil

	peak := func(opts Options) int {
		runtime.GC()
		debug.FreeOSMemory()
		base := rss(t, "VmRSS")
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Fatal(err)
		}
		st, _ := build(t, opts)
		if st.Failed != 0 {
			t.Fatalf("%+v", st)
		}
		return rss(t, "VmHWM") - base
	}
	defer debug.SetGCPercent(debug.SetGCPercent(50)) // steadier peaks
	two := peak(Options{Release: fx.dir, Site: filepath.Join(t.TempDir(), "two"), Subjects: fx.subjects[:1], Workers: 1})
	five := peak(Options{Release: fx.dir, Site: filepath.Join(t.TempDir(), "five"), Subjects: fx.subjects[1:], Workers: 1})
	t.Logf("peak added: %d MB for two photos, %d MB for five", two>>20, five>>20)
	if five > two+36<<20 {
		t.Errorf("five photos peaked at %d MB over the baseline, two at %d MB: memory grows with the release", five>>20, two>>20)
	}
}

// rss reads a size field (in kB) of /proc/self/status, in bytes.
func rss(t *testing.T, field string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
