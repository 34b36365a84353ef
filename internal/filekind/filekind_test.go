package filekind

import (
	"io/fs"
	"testing"
)

func TestName(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		fs.ModeNamedPipe:                  "named pipe",
		fs.ModeSocket:                     "socket",
		fs.ModeDevice | fs.ModeCharDevice: "device",
		fs.ModeDir:                        "directory",
		fs.ModeIrregular:                  "special file",
	} {
		if got := Name(m); got != want {
			t.Errorf("Name(%v) = %q, want %q", m, got, want)
		}
	}
}
