//go:build unix

package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/veil-photo/veil/internal/filekind"
)

// TestLogFileReplaced: whoever can write the vault folder may put a FIFO or
// a symbolic link where a log file was. Verify, Open and the scanners
// return an error naming the file at once: a FIFO used to hang the
// auditor's nightly verify for ever (red team, PoC 12).
func TestLogFileReplaced(t *testing.T) {
	for _, name := range []string{RecordsFile, HashesFile, CheckpointFile} {
		for _, kind := range []string{"fifo", "symlink"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				f := newFixture(t)
				path := filepath.Join(f.logDir, name)
				if err := os.Rename(path, path+".saved"); err != nil {
					t.Fatal(err)
				}
				var err error
				if kind == "fifo" {
					err = syscall.Mkfifo(path, 0o644)
				} else {
					err = os.Symlink(name+".saved", path)
				}
				if err != nil {
					t.Fatal(err)
				}
				rep, verr := Verify(t.Context(), VerifyOptions{
					LogDir: f.logDir, Origin: f.origin, LogVerifier: f.verifier, CustodianKeys: f.custodianKeys(), Pinned: f.pinned,
				})
				switch {
				case verr != nil && !errors.Is(verr, filekind.ErrNotRegular):
					t.Errorf("Verify: %v, want an error wrapping ErrNotRegular", verr)
				case verr == nil && rep.OK() && name != HashesFile:
					// The hashes file is derived from the records, which
					// Verify then reads instead: no finding, and no hang.
					t.Errorf("Verify: no finding with %s replaced by a %s", name, kind)
				case verr == nil:
					t.Logf("Verify: %v", rep.Findings)
				}
				if kind == "fifo" {
					l, oerr := Open(f.logDir, f.origin, f.signer)
					if oerr == nil {
						l.Close()
						t.Errorf("Open of a log with a FIFO for %s succeeded", name)
					} else if !strings.Contains(oerr.Error(), filekind.ErrNotRegular.Error()) {
						t.Errorf("Open: %v, want it to say the file is not a regular file", oerr)
					}
				}
			})
		}
	}
}
