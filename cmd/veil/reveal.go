package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/manifest"
)

func newRevealCommand() *cobra.Command {
	var opts CustodianOptions
	c := &cobra.Command{
		Use:   "reveal --vault DIR --identity FILE --reason TEXT CODE...",
		Short: "Custodian: show who and what a photo or subject code stands for (logged)",
		Long: `reveal shows, for a photo code, the original file's name and path, the
patient key, the phase and the subject; for a subject code, the same for every
photo of that subject.

Before anything is decrypted, veil verifies the log (and refuses if anything
is wrong), then appends an access record with the codes and the reason, signed
with the custodian's key, and re-signs the checkpoint. Auditors see every
reveal. The reason is public to them: do not put patient names in it.`,
		Example: `  veil reveal --vault /srv/veil --identity /media/safe/custodian.age \
      --reason "patient request, ticket 2025-114" 3f1c2a9e-4b7d-4c1e-9a2f-5d6e7f8a9b0c`,
		Args: argsRange(1, -1, "a photo or subject code"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkCustodianArgs(c, opts, args); err != nil {
				return err
			}
			return runReveal(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addCustodianFlags(c, &opts)
	return c
}

func runReveal(ctx context.Context, opts CustodianOptions, codes []string, stdout, stderr io.Writer) error {
	g, err := logAccess(ctx, opts, manifest.ActionReveal, codes, stderr)
	if err != nil {
		return err
	}
	failed := 0
	for _, code := range codes {
		photos := g.byCode[code]
		if photos[0].rec.Photo != code {
			fmt.Fprintf(stdout, "subject %s: %s\n", code, plural(len(photos), "photo"))
		}
		for _, p := range photos {
			if err := g.revealPhoto(stdout, p); err != nil {
				fmt.Fprintf(stderr, "veil: photo %s: %v\n", p.rec.Photo, oneLine(err.Error()))
				failed++
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %s could not be unsealed (see above)", errSomeFailed, plural(failed, "photo"))
	}
	return nil
}

func (g *accessGrant) revealPhoto(w io.Writer, p *loggedPhoto) error {
	d, err := manifest.Unseal(p.rec.Sealed, g.custodian.Identity)
	if err != nil {
		return err
	}
	r := p.rec
	fmt.Fprintf(w, "photo %s (record %d)\n", r.Photo, p.index)
	fmt.Fprintf(w, "  subject   %s\n", r.Subject)
	fmt.Fprintf(w, "  phase     %s\n", r.Phase)
	fmt.Fprintf(w, "  patient   %s\n", d.PatientKey)
	fmt.Fprintf(w, "  original  %s\n", d.Path)
	fmt.Fprintf(w, "  name      %s\n", d.Name)
	fmt.Fprintf(w, "  sha256    %s\n", d.SHA256)
	fmt.Fprintf(w, "  size      %d bytes, modified %s\n", d.Size, d.ModTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  released  %s (%s, %dx%d)\n", r.Released.Path, r.Format, r.Released.Width, r.Released.Height)
	for _, dup := range p.dups {
		dd, err := manifest.Unseal(dup.rec.Sealed, g.custodian.Identity)
		if err != nil {
			return fmt.Errorf("duplicate record %d: %w", dup.index, err)
		}
		fmt.Fprintf(w, "  duplicate %s (record %d)\n", dd.Path, dup.index)
	}
	return nil
}
