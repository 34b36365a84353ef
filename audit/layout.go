package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
)

// CheckVault is the check of the vault folder's own layout.
const CheckVault manifest.Check = "vault"

// logFiles are the names the log folder holds.
var logFiles = map[string]bool{
	manifest.RecordsFile: true, manifest.HashesFile: true, manifest.PendingFile: true, manifest.CheckpointFile: true,
}

// layout reports what someone put into the vault folder or its log folder,
// and which of the vault's own entries are gone: veil writes nothing else
// there, so anything else was left by a person or a program that could
// write the vault (red team, PoC 12).
func (a *auditor) layout() error {
	extra, missing, err := a.vault.Layout()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	for _, name := range extra {
		a.rep.Add(manifest.Finding{Record: -1, Check: CheckVault, Object: strconv.Quote(name),
			Problem: "unexpected entry in the vault folder (veil writes nothing of that name)"})
	}
	for _, name := range missing {
		a.rep.Add(manifest.Finding{Record: -1, Check: CheckVault, Object: name,
			Problem: "missing from the vault folder"})
	}
	entries, err := os.ReadDir(a.vault.LogDir())
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	for _, e := range entries {
		if name := e.Name(); !logFiles[name] && !strings.HasPrefix(name, atomicfile.TempPrefix) {
			a.rep.Add(manifest.Finding{Record: -1, Check: CheckVault, Object: strconv.Quote(filepath.Join("log", name)),
				Problem: "unexpected entry in the log folder (veil writes nothing of that name)"})
		}
	}
	return nil
}
