// Command veil codes clinical photos: it strips identifying metadata
// losslessly, codes photos and patients, keeps originals in an encrypted vault
// and records every step in a signed, append-only manifest.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/veil-photo/veil/internal/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal lets the command finish cleanly; a second one, for a
	// command stuck in a read that no context reaches, ends the process.
	go func() { <-ctx.Done(); stop() }()
	root := newRootCommand()
	cmd, err := root.ExecuteContextC(ctx)
	stop()
	switch {
	case err != nil && jsonMode(cmd):
		ui.LogError(os.Stderr, err, exitCode(err))
	case err != nil:
		reportError(os.Stderr, err, globalOpts.Debug)
	}
	os.Exit(exitCode(err))
}
