package main

import (
	"runtime"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/buildinfo"
)

// GlobalOptions holds the flags every command understands.
type GlobalOptions struct {
	Debug   bool
	JSON    bool // commands with their own --json flag use theirs
	Quiet   bool // likewise --quiet
	Verbose bool
}

var globalOpts GlobalOptions

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "veil",
		Short:         "Strip identifying metadata from clinical photos and code them, with an encrypted vault and a signed log",
		Version:       buildinfo.Version(version),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.BoolVar(&globalOpts.Debug, "debug", false, "print error details (wrapped causes) for bug reports")
	pf.BoolVar(&globalOpts.JSON, "json", false, `print one JSON event per line: {"time","level","event",...}`)
	pf.BoolVarP(&globalOpts.Quiet, "quiet", "q", false, "print nothing on success (problems and errors still print)")
	pf.BoolVarP(&globalOpts.Verbose, "verbose", "v", false, "print every event, not only problems (ingest, watch)")
	// Settings from the environment and the config file fill in the flags
	// not given, before any command runs (settings.go).
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error { return applySettings(c) }
	// Every --help ends with the exit status table.
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitTable + "\n")
	root.SetVersionTemplate("veil {{.Version}}\n")
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
		newRekeyCommand(),
		newRestoreCommand(),
		newGalleryCommand(),
		newStatsCommand(),
		newFindCommand(),
		newQuarantineCommand(),
		newConfigCommand(),
		newManCommand(),
		newUnlockCommand(),
	)
	setHelp(root) // each command's Long and Example come from help/NAME.txt
	return root
}

// defaultWorkers is the default for --workers: one per core.
func defaultWorkers() int { return runtime.NumCPU() }
