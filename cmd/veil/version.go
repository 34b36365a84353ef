package main

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/photo"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise
// it comes from the module's build information.
var version = ""

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print veil's version and the formats this build can strip",
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			var names []string
			for _, f := range photo.StrippableFormats() {
				names = append(names, f.String())
			}
			if globalOpts.JSON {
				ui.NewEventLog(c.OutOrStdout(), "").Emit(slog.LevelInfo, "version", slog.String("version", buildVersion()),
					slog.String("go", runtime.Version()), slog.String("os", runtime.GOOS), slog.String("arch", runtime.GOARCH),
					slog.Any("strips", names))
				return nil
			}
			fmt.Fprintf(c.OutOrStdout(), "veil %s (%s, %s/%s)\nstrips: %s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, strings.Join(names, ", "))
			return nil
		},
	}
}

// buildVersion is veil's version: the one set at build time, else the
// module version of a 'go install ...@version', else "devel-" and the VCS
// revision a source build was made from.
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	v := "devel"
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += "-" + rev[:min(12, len(rev))]
		if settings["vcs.modified"] == "true" {
			v += "-dirty"
		}
	}
	return v
}
