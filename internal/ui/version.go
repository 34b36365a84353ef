package ui

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
)

// PrintVersion prints veil's version, the Go toolchain and platform it was
// built for, and the formats it can strip, as a line each or, with jsonOut,
// as one event.
func PrintVersion(w io.Writer, version string, strips []string, jsonOut bool) {
	if jsonOut {
		NewEventLog(w, "").Emit(slog.LevelInfo, "version", slog.String("version", version),
			slog.String("go", runtime.Version()), slog.String("os", runtime.GOOS), slog.String("arch", runtime.GOARCH),
			slog.Any("strips", strips))
		return
	}
	fmt.Fprintf(w, "veil %s (%s, %s/%s)\nstrips: %s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, strings.Join(strips, ", "))
}
