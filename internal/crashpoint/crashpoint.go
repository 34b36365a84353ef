// Package crashpoint is the kill switch of the crash trials: an
// ingest.Options.Hook that kills veil just before a named step of the commit
// order, so that a test can check what a power cut at that moment leaves.
package crashpoint

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/veil-photo/veil/ingest"
)

// ErrSpec is wrapped when a crash point is not STEP or STEP:N.
var ErrSpec = errors.New("want STEP or STEP:N")

// ErrStep is wrapped when a crash point names no step of ingest.Steps.
var ErrStep = errors.New("unknown step")

// Parse reads a crash point, "step" or "step:N" (the Nth time the step is
// reached, counting from 1), and returns the step and N.
func Parse(spec string) (ingest.Step, int64, error) {
	name, nth, _ := strings.Cut(spec, ":")
	n := 1
	if nth != "" {
		var err error
		if n, err = strconv.Atoi(nth); err != nil || n < 1 {
			return "", 0, fmt.Errorf("%q: %w", spec, ErrSpec)
		}
	}
	if !slices.Contains(ingest.Steps, ingest.Step(name)) {
		return "", 0, fmt.Errorf("%q: %w", spec, ErrStep)
	}
	return ingest.Step(name), int64(n), nil
}

// Hook returns the ingest.Options.Hook that kills the process (SIGKILL on
// Unix, TerminateProcess on Windows: no cleanup runs) just before step is
// reached the nth time.
func Hook(step ingest.Step, nth int64) func(ingest.Step, string) error {
	var count atomic.Int64
	return func(s ingest.Step, _ string) error {
		if s == step && count.Add(1) == nth {
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				p.Kill()
			}
			select {} // the kill is on its way
		}
		return nil
	}
}
