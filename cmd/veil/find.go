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

		Long:    helpLong("find"),
		Example: helpExample("find"),

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
