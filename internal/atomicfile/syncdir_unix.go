//go:build unix

package atomicfile

import (
	"errors"
	"os"
)

// syncDir fsyncs a folder (F_FULLFSYNC on macOS, through os.File.Sync).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot fsync a directory; that is not a write
	// failure.
	if errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}
