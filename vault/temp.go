package vault

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/veil-photo/veil/internal/atomicfile"
)

// putTempTag follows atomicfile.TempPrefix in the names of Put's temporary
// files: ".veil-tmp-put.<pid>.<host>.<random>". The pid and host let Open
// tell a crashed writer's leftovers from a running writer's work in progress.
const putTempTag = "put."

func tempPattern() string {
	return atomicfile.TempPrefix + putTempTag + strconv.Itoa(os.Getpid()) + "." + sanitizeHost(hostname()) + ".*"
}

// hostname returns the name of this host, or "unknown".
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

func sanitizeHost(h string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '/' || r == '*' || r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, h)
}

// parseTempName returns the pid and host recorded in a Put temp name.
func parseTempName(name string) (pid int, host string, ok bool) {
	rest, ok := strings.CutPrefix(name, atomicfile.TempPrefix+putTempTag)
	if !ok {
		return 0, "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(parts[0])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	return pid, parts[1], true
}

// cleanTemps removes the temporary files of Puts whose writer is no longer
// running on this host, in blobs/, and returns their
// paths. A temp of a live process, of another host or of unknown origin is
// left alone: it may be a write in progress. Removal is best effort: a vault
// on read-only media (an auditor's copy) still opens.
func cleanTemps(blobs string) []string {
	var removed []string
	self, host := os.Getpid(), sanitizeHost(hostname())
	clean := func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !atomicfile.IsTemp(e.Name()) || !e.Type().IsRegular() {
				continue
			}
			pid, h, ok := parseTempName(e.Name())
			if !ok || h != host || pid == self || processAlive(pid) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if os.Remove(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	// Put creates its temps in blobs/ itself, never in the <2 hex>
	// subdirectories, so Open need not list every blob.
	clean(blobs)
	return removed
}
