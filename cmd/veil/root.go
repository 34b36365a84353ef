package main

import (
	"runtime"

	"github.com/spf13/cobra"
)

// GlobalOptions holds the flags every command understands.
type GlobalOptions struct {
	Debug bool
}

var globalOpts GlobalOptions

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "veil",
		Short: "Strip identifying metadata from clinical photos and code them, with an encrypted vault and a signed log",
		Long: `veil takes clinical before/after photos, removes what in the file can identify
the patient, the place, the time or the device (EXIF, GPS, XMP, IPTC, comments,
thumbnails, trailers), gives each photo and each patient a random code, keeps the
untouched original encrypted in a local vault, and records every step in a signed,
append-only manifest.

A face photo stays identifiable: veil's output is coded data (HIPAA 164.514(c)),
not de-identified data in the Safe Harbor sense.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			HiddenDefaultCmd: true,
		},
	}
	root.PersistentFlags().BoolVar(&globalOpts.Debug, "debug", false, "print error details (wrapped causes) for bug reports")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err: err, cmd: c.CommandPath()}
	})
	root.AddCommand(
		newVersionCommand(),
		newInitCommand(),
		newScanCommand(),
		newStripCommand(),
		newIngestCommand(),
		newWatchCommand(),
		newVerifyCommand(),
		newRevealCommand(),
		newRestoreCommand(),
		newGalleryCommand(),
		newUnlockCommand(),
	)
	return root
}

// defaultWorkers is the default for --workers: one per core.
func defaultWorkers() int { return runtime.NumCPU() }
