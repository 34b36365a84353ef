package ui

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/veil-photo/veil/internal/settings"
)

// PrintConfig prints veil config: the config file found (file, or "" when
// none was found in lookedIn) and every setting's value with where it came
// from, as a table or, with jsonOut, as one event per setting.
func PrintConfig(w io.Writer, file string, lookedIn []string, values []settings.Value, jsonOut bool) error {
	if jsonOut {
		l := NewEventLog(w, "")
		l.Emit(slog.LevelInfo, "config", slog.String("file", file), slog.Any("looked_in", lookedIn))
		for _, v := range values {
			l.Emit(slog.LevelInfo, "setting", slog.String("key", v.Key), slog.String("env", v.Env),
				slog.Any("value", v.Values), slog.String("source", string(v.Source)))
		}
		return nil
	}
	if file == "" {
		file = "none (looked for " + strings.Join(lookedIn, ", ") + ")"
	}
	fmt.Fprintf(w, "config file: %s\n", EscapeName(file))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tFROM\tENV")
	for _, v := range values {
		shown := strings.Join(v.Values, ", ")
		if shown == "" {
			shown = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Key, EscapeControls(shown), v.Source, v.Env)
	}
	return tw.Flush()
}
