package vault

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/veil-photo/veil/internal/atomicfile"
)

// topEntries are the names a vault folder holds, and whether each must be
// there: Init makes them all, lock included.
var topEntries = map[string]bool{
	configFile: true, auditorFile: true, keysDir: true, blobsDir: true, logDir: true, indexDir: true, lockFile: false,
}

// Layout lists what the vault folder holds beyond its own entries (extra)
// and which of its own are gone (missing). A file someone left in the
// vault is not veil's and may hold anything, a patient's name included; a
// missing keys/ or index/ stops ingest, or gives returning patients new
// codes. Temporary files of a running writer are veil's own.
func (v *Vault) Layout() (extra, missing []string, err error) {
	entries, err := os.ReadDir(v.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("vault: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if _, ours := topEntries[name]; ours {
			seen[name] = true
		} else if !strings.HasPrefix(name, atomicfile.TempPrefix) {
			extra = append(extra, name)
		}
	}
	for name, required := range topEntries {
		if required && !seen[name] {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	return extra, missing, nil
}
