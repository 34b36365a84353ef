package main

import (
	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/buildinfo"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/photo"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise
// it comes from the module's build information (see buildinfo.Version).
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
			ui.PrintVersion(c.OutOrStdout(), buildinfo.Version(version), names, globalOpts.JSON)
			return nil
		},
	}
}
