package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/ui"
)

// FindOptions are the flags of veil find.
type FindOptions struct {
	CustodianOptions
	JSON bool
}

func newFindCommand() *cobra.Command {
	var opts FindOptions
	c := &cobra.Command{
		Use:   "find --vault DIR --identity FILE --reason TEXT NAME-OR-ID...",
		Short: "Custodian: find the subject and photo codes of a patient by name or ID (logged)",
		Long: `find answers "which codes are this patient's?" for a custodian: for each patient
name or ID, the subject codes filed under it and every photo code of those
subjects with its phase.

find opens the sealed details of every photo in the log with the custodian
identity, so it works wherever the custodian file is (the ingest host's index
key is not needed) and costs one decryption per photo. A query holding a digit
is a patient ID, compared with the ID ingest sealed (for photos ingested before
veil sealed IDs, with the folder names of the original path); any other query
is a name, compared as ingest compares names (case, spacing,
underscores and Unicode forms folded; accents and spelling kept). Names that
differ only in accents, hyphens, punctuation or word order are listed too, as
a "similar name", after the exact matches. A name can match several subjects:
two patients of the same name, or one patient filed both with and without an
ID. Check before you act on a code.

Before the answer is printed, veil verifies the log (and refuses if anything
is wrong), then appends an access record with action find, the subject codes
found (none if nothing was found) and the reason, signed with the custodian's
key. Auditors see every find and its reason, never the names searched. The
reason is public to them: do not put patient names in it.

The output names patients (PHI), with or without --json and also when it is
not a terminal, as reveal's does: it is the answer the custodian asked for.
Keep it off shared logs.

Exit status: 0 done (also when nothing was found), 1 error (wrong passphrase,
not a custodian, locked vault), 2 usage, 3 the log does not verify.`,
		Example: `  veil find --vault /srv/veil --identity /media/safe/custodian.age \
      --reason "subject access request, ticket 2026-031" "Jane Doe" MRN-4711
  veil find --vault /srv/veil --identity /media/safe/custodian.age \
      --reason "ticket 2026-032" --json "García López, María"`,
		Args: argsRange(1, -1, "a patient name or ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := checkCustodianArgs(c, opts.CustodianOptions, nil); err != nil {
				return err
			}
			return runFind(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addCustodianFlags(c, &opts.CustodianOptions)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per query (it holds the patient names searched and found)")
	return c
}

func runFind(ctx context.Context, opts FindOptions, queries []string, stdout, stderr io.Writer) error {
	cv, id, err := openCustody(opts.CustodianOptions)
	if err != nil {
		return err
	}
	f, err := cv.Find(ctx, id, custody.FindRequest{Queries: queries, Reason: opts.Reason})
	if err != nil {
		return custodyError(err, opts.CustodianOptions, stderr)
	}
	ui.PrintFindLogged(stderr, len(queries), f)
	return ui.PrintAnswers(stdout, f.Answers, opts.JSON)
}
