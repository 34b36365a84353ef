package custody

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/testlog"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// filed is one photo as ingest would have logged it: the subject it was
// filed under, and what its sealed detail says about the inbox path.
type filed struct {
	subject  int    // index into the test's subjects
	path     string // original path
	patient  string // patient name as written in the path
	phase    string // phase as written in the path
	stranger bool   // sealed to another vault's custodian
}

// newFindFixture logs the photos in order, with a quarantine record among
// them, and returns the fixture and the subject codes.
func newFindFixture(t *testing.T, subjects int, photos []filed) (*fixture, []code.Code) {
	t.Helper()
	root := t.TempDir()
	f := &fixture{dir: filepath.Join(root, "vault")}
	pass := []byte("correct horse battery staple")
	v, err := vault.Init(f.dir, filepath.Join(root, "custodian.age"), vault.InitOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if f.id, err = vault.LoadCustodian(filepath.Join(root, "custodian.age"), pass); err != nil {
		t.Fatal(err)
	}
	recipients, err := v.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]code.Code, subjects)
	for i := range codes {
		codes[i] = newCode(t)
	}
	var recs []manifest.Record
	for i, p := range photos {
		to := recipients
		if p.stranger {
			to = []age.Recipient{other.Recipient()}
		}
		d := manifest.Detail{Path: p.path, Name: filepath.Base(p.path), PatientKey: p.patient, Phase: p.phase,
			SHA256: strings.Repeat("ef", 32), Size: 1, ModTime: time.Now()}
		sealed, err := manifest.Seal(d, to)
		if err != nil {
			t.Fatal(err)
		}
		photo, s := newCode(t).String(), codes[p.subject].String()
		recs = append(recs, &manifest.Ingest{Photo: photo, Subject: s, Phase: "before", Format: "jpeg",
			Released: manifest.Released{Path: s + "/" + photo + ".jpg", SHA256: strings.Repeat("ab", 32), Size: 1, Width: 4, Height: 3},
			Blob:     manifest.BlobInfo{SHA256: strings.Repeat("cd", 32), Size: 1}, Time: time.Now(), Sealed: sealed})
		c, err := code.Parse(photo)
		if err != nil {
			t.Fatal(err)
		}
		f.photos = append(f.photos, c)
		if i == 0 {
			q, err := manifest.Seal(manifest.Detail{Path: "inbox/Jane Doe/later/x.jpg", Name: "x.jpg", PatientKey: "Jane Doe",
				SHA256: strings.Repeat("ef", 32), Size: 1, ModTime: time.Now(), Message: "unknown phase"}, recipients)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, &manifest.Quarantine{Reason: "phase", Time: time.Now(), Sealed: q})
		}
	}
	testlog.Append(t, v, recs)
	return f, codes
}

func TestFindMatchesNamesAndIDsAndLogsFirst(t *testing.T) {
	t.Parallel()
	f, s := newFindFixture(t, 5, []filed{
		{subject: 0, path: "/srv/inbox/Jane DOE/before/a.jpg", patient: "Jane DOE", phase: "before"},
		{subject: 1, path: "/srv/inbox/4711_Jane Doe/pre/b.jpg", patient: "Jane Doe", phase: "pre"},
		{subject: 2, path: "/srv/inbox/Jané Doe/before/c.jpg", patient: "Jané Doe", phase: "before"},
		{subject: 0, path: "/srv/inbox/jane_doe/2 weeks post/d.jpg", patient: "jane_doe", phase: "2 weeks post"},
		{subject: 3, path: `C:\inbox\A-0815\after\e.jpg`, phase: "after"},
		{subject: 3, path: "/srv/inbox/Jane Doe/after/f.jpg", patient: "Jane Doe", phase: "after", stranger: true},
		// ingest now seals the ID with the name; the path is not searched then
		{subject: 4, path: "/srv/inbox/B-12 9999 Ann Lee/pre/g.jpg", patient: "id:B-12 Ann Lee", phase: "pre"},
	})
	req := FindRequest{Queries: []string{"JANE  doe", "a-0815", "4711", "2", "Nobody", "b-12", "9999", "Lee Ann"}, Reason: "subject access request 2026-7"}
	r, err := f.open(t).Find(context.Background(), f.id, req)
	if err != nil {
		t.Fatal(err)
	}
	// The search is on record before its answer is returned: the subjects
	// found, in the order found, never the queries.
	f.checkLogged(t, r.Record, manifest.ActionFind, req.Reason, s[0], s[1], s[2], s[3], s[4])
	if r.Record != 8 || r.Unreadable != 1 {
		t.Errorf("record %d, unreadable %d: want the access at record 8 and 1 record sealed to another custodian", r.Record, r.Unreadable)
	}

	type want struct {
		subject code.Code
		how     How
		names   []string
		photos  []code.Code
	}
	check := func(a Answer, query string, wants ...want) {
		t.Helper()
		if a.Query != query || len(a.Subjects) != len(wants) {
			t.Fatalf("answer %+v, want %d subjects for %q", a, len(wants), query)
		}
		for i, w := range wants {
			got := a.Subjects[i]
			var photos []code.Code
			for _, p := range got.Photos {
				photos = append(photos, p.Photo)
			}
			if got.Subject != w.subject || got.How != w.how || !slices.Equal(got.Names, w.names) || !slices.Equal(photos, w.photos) {
				t.Errorf("%q: subject %d: %+v, want %+v", query, i, got, w)
			}
		}
	}
	p := f.photos
	// One name, three subjects: one patient under two spellings of one key,
	// a second patient of the same name (filed under an ID), and a similar
	// name that ingest would have held for review, listed last.
	check(r.Answers[0], "JANE  doe",
		want{s[0], ByName, []string{"Jane DOE", "jane_doe"}, []code.Code{p[0], p[3]}},
		want{s[1], ByName, []string{"Jane Doe"}, []code.Code{p[1]}},
		want{s[2], BySimilar, []string{"Jané Doe"}, []code.Code{p[2]}})
	check(r.Answers[1], "a-0815", want{s[3], ByID, nil, []code.Code{p[4], p[5]}})
	check(r.Answers[2], "4711", want{s[1], ByID, []string{"Jane Doe"}, []code.Code{p[1]}})
	check(r.Answers[3], "2") // the "2" of "2 weeks post" is a phase, not a patient
	check(r.Answers[4], "Nobody")
	check(r.Answers[5], "b-12", want{s[4], ByID, []string{"Ann Lee"}, []code.Code{p[6]}})
	check(r.Answers[6], "9999")
	check(r.Answers[7], "Lee Ann", want{s[4], BySimilar, []string{"Ann Lee"}, []code.Code{p[6]}})
	if ph := r.Answers[0].Subjects[0].Photos[1]; ph.Phase != "before" || ph.Record != 4 {
		t.Errorf("photo %+v, want its public phase and record 4", ph)
	}

	// A search that finds nobody is logged too, with no codes, and the log
	// still verifies.
	r2, err := f.open(t).Find(context.Background(), f.id, FindRequest{Queries: []string{"Nobody"}, Reason: "second"})
	if err != nil {
		t.Fatal(err)
	}
	f.checkLogged(t, r2.Record, manifest.ActionFind, "second")
	if r, err := f.open(t).Reveal(context.Background(), f.id, Request{Codes: []code.Code{s[0]}, Reason: "after finds"}); err != nil {
		t.Fatalf("reveal after two finds (the log must verify): %v", err)
	} else if r.Record != 10 {
		t.Errorf("reveal logged at %d, want 10", r.Record)
	}
}

func TestFindRefusalsLogNothing(t *testing.T) {
	t.Parallel()
	f, _ := newFindFixture(t, 1, []filed{{subject: 0, path: "inbox/Bob/pre/a.jpg", patient: "Bob", phase: "pre"}})
	for _, q := range []string{" _ ", "12 34", "4711/x"} {
		if _, err := f.open(t).Find(context.Background(), f.id, FindRequest{Queries: []string{"Bob", q}, Reason: "x"}); err == nil {
			t.Errorf("query %q was searched", q)
		}
	}
	if _, err := f.open(t).Find(context.Background(), f.id, FindRequest{Queries: []string{"__"}, Reason: "x"}); !errors.Is(err, ErrEmptyQuery) {
		t.Errorf("empty query: %v, want ErrEmptyQuery", err)
	}
	if n := len(f.records(t)); n != 2 {
		t.Errorf("log has %d records after refused finds, want the fixture's 2", n)
	}
}
