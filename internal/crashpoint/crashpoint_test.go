package crashpoint

import (
	"errors"
	"testing"

	"github.com/veil-photo/veil/ingest"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec string
		step ingest.Step
		n    int64
		err  error
	}{
		{string(ingest.StepCommit), ingest.StepCommit, 1, nil},
		{string(ingest.StepPut) + ":3", ingest.StepPut, 3, nil},
		{string(ingest.StepPut) + ":0", "", 0, ErrSpec},
		{string(ingest.StepPut) + ":x", "", 0, ErrSpec},
		{"explode", "", 0, ErrStep},
		{"", "", 0, ErrStep},
	} {
		step, n, err := Parse(tc.spec)
		if step != tc.step || n != tc.n || !errors.Is(err, tc.err) {
			t.Errorf("Parse(%q) = %q, %d, %v; want %q, %d, %v", tc.spec, step, n, err, tc.step, tc.n, tc.err)
		}
	}
}

// TestHookWaits: the hook lets every other step, and its own step before
// the Nth time, pass. (The kill itself is tested by the crash trials of
// cmd/veil, in a process of their own.)
func TestHookWaits(t *testing.T) {
	hook := Hook(ingest.StepCommit, 3)
	for _, s := range []ingest.Step{ingest.StepHash, ingest.StepCommit, ingest.StepPut, ingest.StepCommit, ingest.StepRemove} {
		if err := hook(s, "a.png"); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
