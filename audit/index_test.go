package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/release"
)

// TestIndex damages RELEASE/index.csv in every way the audit must catch:
// researchers read each photo's subject and phase from it. Lines are
// 1-based with the header on line 1, so photo N is on line N+2. {photoN}
// stands for the Nth photo's code.
func TestIndex(t *testing.T) {
	cases := []struct {
		name string
		edit func(lines []string) []string // nil: delete the file
		want []string                      // substrings of findings, each required
	}{
		{"file deleted", nil, []string{"index.csv: missing, but the log has 6 ingest records"}},
		{"phase changed", func(l []string) []string {
			l[2] = strings.Replace(l[2], ",before,", ",after,", 1)
			return l
		}, []string{`record 2: index.csv line 3: photo {photo1}: row altered: phase "after", logged "before"`}},
		{"subject codes of two rows swapped", func(l []string) []string {
			a, b := strings.Split(l[1], ","), strings.Split(l[4], ",")
			a[1], b[1] = b[1], a[1]
			l[1], l[4] = strings.Join(a, ","), strings.Join(b, ",")
			return l
		}, []string{"record 1: index.csv line 2: photo {photo0}: row altered: subject", "record 6: index.csv line 5: photo {photo3}: row altered: subject"}},
		{"hash changed", func(l []string) []string {
			l[6] = l[6][:len(l[6])-3] + "00\n"
			return l
		}, []string{"record 8: index.csv line 7: photo {photo5}: row altered: sha256"}},
		{"row removed", func(l []string) []string {
			return append(l[:2], l[3:]...)
		}, []string{"record 2: index.csv: photo {photo1}: row missing (removed?)"}},
		{"last row removed", func(l []string) []string {
			return l[:len(l)-1]
		}, []string{"record 8: index.csv: photo {photo5}: row missing at the end"}},
		{"row added", func(l []string) []string {
			row, err := release.ParseRow(l[1])
			if err != nil {
				panic(err)
			}
			row.Photo = mustCode()
			return append(l, row.Line())
		}, []string{"index.csv line 8: photo ", "no ingest record has this code (row added)"}},
		{"row repeated", func(l []string) []string {
			return append(l, l[2])
		}, []string{"record 2: index.csv line 8: photo {photo1}: row listed again"}},
		{"two rows swapped", func(l []string) []string {
			l[2], l[3] = l[3], l[2]
			return l
		}, []string{"record 2: index.csv line 4: photo {photo1}: row out of log order: it comes after photo {photo2} (line 3, record 3)"}},
		{"header replaced", func(l []string) []string {
			l[0] = "photo,subject,phase,format,width,height,sha256\n"
			return l
		}, []string{"index.csv: the first line is not the header"}},
		{"row malformed", func(l []string) []string {
			l[3] = strings.Replace(l[3], ",", ";", 1)
			return l
		}, []string{"index.csv line 4: ", "the rows after it were not compared"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := filepath.Join(f.release, release.IndexFile)
			if tc.edit == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else {
				lines := strings.SplitAfter(string(read(t, path)), "\n")
				lines = lines[:len(lines)-1] // after the last newline
				write(t, path, []byte(strings.Join(tc.edit(lines), "")))
			}
			f.wantFindings(t, tc.want...)
		})
	}
}

// wantFindings audits the fixture and requires a finding containing each of
// want, after expanding {photoN}.
func (f *fixture) wantFindings(t *testing.T, want ...string) {
	t.Helper()
	rep := f.run(t)
	var got []string
	for _, x := range rep.Findings {
		got = append(got, x.String())
	}
	for _, w := range want {
		for i, p := range f.photos {
			w = strings.ReplaceAll(w, fmt.Sprintf("{photo%d}", i), p.Photo)
		}
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("no finding contains %q; findings:\n%s", w, strings.Join(got, "\n"))
		}
	}
}
