package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/veil-photo/veil/custody"
)

// FindJSON is the --json form of one answer of veil find.
type FindJSON struct {
	Query    string         `json:"query"`
	Subjects []FoundSubject `json:"subjects"`
}

// FoundSubject is a subject in a FindJSON.
type FoundSubject struct {
	Subject string       `json:"subject"`
	Match   custody.How  `json:"match"`
	Names   []string     `json:"names"`
	Photos  []FoundPhoto `json:"photos"`
}

// FoundPhoto is a photo of a FoundSubject.
type FoundPhoto struct {
	Photo  string `json:"photo"`
	Phase  string `json:"phase"`
	Record int64  `json:"record"`
}

// PrintFindLogged is the custodian's confirmation, on w, that a find of
// queries names or IDs is on record, with a warning for the photos it could
// not search.
func PrintFindLogged(w io.Writer, queries int, f *custody.Find) {
	subjects := map[string]bool{}
	for _, a := range f.Answers {
		for _, s := range a.Subjects {
			subjects[s.Subject.String()] = true
		}
	}
	asked := "1 name or ID"
	if queries != 1 {
		asked = fmt.Sprintf("%d names or IDs", queries)
	}
	fmt.Fprintf(w, "veil: logged find of %s as record %d (%s found), signed by the custodian key\n",
		asked, f.Record, Plural(len(subjects), "subject"))
	if f.Unreadable > 0 {
		fmt.Fprintf(w, "veil: warning: %s sealed to another custodian key could not be searched\n", Plural(f.Unreadable, "photo"))
	}
}

// PrintAnswers prints the answers of a find on w, as text or one JSON
// object per query. Both name patients: they are the custodian's answer.
func PrintAnswers(w io.Writer, answers []custody.Answer, jsonOut bool) error {
	enc := json.NewEncoder(w)
	for _, a := range answers {
		if !jsonOut {
			printFound(w, a)
			continue
		}
		out := FindJSON{Query: a.Query, Subjects: []FoundSubject{}}
		for _, s := range a.Subjects {
			fs := FoundSubject{Subject: s.Subject.String(), Match: s.How, Names: append([]string{}, s.Names...)}
			for _, p := range s.Photos {
				fs.Photos = append(fs.Photos, FoundPhoto{Photo: p.Photo.String(), Phase: p.Phase, Record: p.Record})
			}
			out.Subjects = append(out.Subjects, fs)
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	return nil
}

// printFound prints one answer in text.
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
		fmt.Fprintf(w, "  subject %s (%s): %s\n", s.Subject, how, Plural(len(s.Photos), "photo"))
		for _, p := range s.Photos {
			fmt.Fprintf(w, "    photo %s  %s\n", p.Photo, p.Phase)
		}
	}
}
