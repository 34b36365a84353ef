package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
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

// findJSON is the --json form of one answer.
type findJSON struct {
	Query    string         `json:"query"`
	Subjects []foundSubject `json:"subjects"`
}

type foundSubject struct {
	Subject string       `json:"subject"`
	Match   custody.How  `json:"match"`
	Names   []string     `json:"names"`
	Photos  []foundPhoto `json:"photos"`
}

type foundPhoto struct {
	Photo  string `json:"photo"`
	Phase  string `json:"phase"`
	Record int64  `json:"record"`
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
	subjects := map[string]bool{}
	for _, a := range f.Answers {
		for _, s := range a.Subjects {
			subjects[s.Subject.String()] = true
		}
	}
	asked := "1 name or ID"
	if len(queries) != 1 {
		asked = fmt.Sprintf("%d names or IDs", len(queries))
	}
	fmt.Fprintf(stderr, "veil: logged find of %s as record %d (%s found), signed by the custodian key\n",
		asked, f.Record, plural(len(subjects), "subject"))
	if f.Unreadable > 0 {
		fmt.Fprintf(stderr, "veil: warning: %s sealed to another custodian key could not be searched\n", plural(f.Unreadable, "photo"))
	}
	enc := json.NewEncoder(stdout)
	for _, a := range f.Answers {
		if opts.JSON {
			out := findJSON{Query: a.Query, Subjects: []foundSubject{}}
			for _, s := range a.Subjects {
				fs := foundSubject{Subject: s.Subject.String(), Match: s.How, Names: append([]string{}, s.Names...)}
				for _, p := range s.Photos {
					fs.Photos = append(fs.Photos, foundPhoto{Photo: p.Photo.String(), Phase: p.Phase, Record: p.Record})
				}
				out.Subjects = append(out.Subjects, fs)
			}
			if err := enc.Encode(out); err != nil {
				return err
			}
			continue
		}
		printFound(stdout, a)
	}
	return nil
}

func printFound(w io.Writer, a custody.Answer) {
	switch n := len(a.Subjects); {
	case n == 0:
		fmt.Fprintf(w, "%q: no patient found\n", a.Query)
		return
	case n == 1:
		fmt.Fprintf(w, "%q: 1 subject\n", a.Query)
	default:
		fmt.Fprintf(w, "%q: %d subjects: different patients, or one patient filed under several names or IDs; check before acting\n", a.Query, n)
	}
	for _, s := range a.Subjects {
		names := make([]string, len(s.Names))
		for i, n := range s.Names {
			names[i] = fmt.Sprintf("%q", n)
		}
		how := string(s.How)
		if len(names) > 0 {
			how += ", written " + strings.Join(names, ", ")
		}
		fmt.Fprintf(w, "  subject %s (%s): %s\n", s.Subject, how, plural(len(s.Photos), "photo"))
		for _, p := range s.Photos {
			fmt.Fprintf(w, "    photo %s  %s\n", p.Photo, p.Phase)
		}
	}
}
