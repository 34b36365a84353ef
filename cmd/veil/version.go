package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
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
			v := version
			if v == "" {
				v = "(devel)"
				if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
					v = bi.Main.Version
				}
			}
			var names []string
			for _, f := range photo.StrippableFormats() {
				names = append(names, f.String())
			}
			fmt.Fprintf(c.OutOrStdout(), "veil %s (%s, %s/%s)\nstrips: %s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH, strings.Join(names, ", "))
			return nil
		},
	}
}
