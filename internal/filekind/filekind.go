// Package filekind names the kind of a file that is not a regular file, for
// the messages that refuse it.
package filekind

import "io/fs"

// Name returns what a file of mode m is, in words: "named pipe", "socket",
// "device", "directory", or "special file".
func Name(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}
