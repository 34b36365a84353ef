package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/veil-photo/veil/internal/buildinfo"
)

func newManCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write veil's man pages (section 1) into DIR",
		Args:  argsRange(1, 1, "a folder to write the pages to"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := c.Root()
			root.DisableAutoGenTag = true // the pages are the same whenever they are made
			header := &doc.GenManHeader{Title: "VEIL", Section: "1", Source: "veil " + buildinfo.Version(version), Manual: "veil manual"}
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			return nil
		},
	}
}
