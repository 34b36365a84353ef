package ingest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/ingest/layout"
	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// photos returns n different valid JPEGs (the sample with bytes added after
// its end, which strip drops), so that none is a duplicate of another.
func photos(t *testing.T, n int) [][]byte {
	t.Helper()
	jpg := sample(t, "phone-rotated6.jpg")
	out := make([][]byte, n)
	for i := range out {
		out[i] = append(append([]byte{}, jpg...), bytes.Repeat([]byte{byte(i)}, i+1)...)
	}
	return out
}

// reasonFile returns the reason file of the quarantined file rel.
func (e *env) reasonFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.inbox, inbox.QuarantineDir, filepath.FromSlash(rel)) + ReasonSuffix)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lookAlikes returns the files of the last run held for a look-alike name.
func (e *env) lookAlikes() []Event {
	var out []Event
	for _, ev := range e.events {
		if ev.Kind == Quarantined && ev.Reason == "similar-name" {
			out = append(out, ev)
		}
	}
	return out
}

// TestLookAlikeNamesHeld: a name that equals a patient's only under loose
// folding is held in quarantine with a reason, in staff terms, in the
// reason file alone; the event names no one. The reason names the spelling
// it resembles only when the inbox shows it.
func TestLookAlikeNamesHeld(t *testing.T) {
	for _, tt := range []struct{ first, second, differ string }{
		{"José Garcia", "Jose Garcia", "accents"},
		{"Strauß", "Strauss", "ß written as ss"},
		{"Ann Lee", "Lee, Ann", "hyphens, apostrophes or punctuation and the order of the names"},
		{"Ann Lee", "Ann-Lee", "hyphens, apostrophes or punctuation"},
		{"Maria Garcia", "GARCIA MARIA", "the order of the names"},
	} {
		t.Run(tt.second, func(t *testing.T) {
			e := newEnv(t)
			p := photos(t, 3)
			put(t, e.inbox, tt.first+"/before/a.jpg", p[0])
			// The first spelling's file stays in the inbox: the reason
			// can name it.
			if sum, err := e.run(t, Options{KeepSource: true}); err != nil || sum.Ingested != 1 {
				t.Fatalf("first run: %+v, %v", sum, err)
			}
			put(t, e.inbox, tt.second+"/after/b.jpg", p[1])
			if sum, err := e.run(t, Options{}); err != nil || sum.Ingested != 0 || sum.Quarantined != 1 || len(e.lookAlikes()) != 1 {
				t.Fatalf("second run: %+v, %v, %+v", sum, err, e.events)
			}
			ev := e.lookAlikes()[0]
			if strings.Contains(ev.Message, tt.first) || strings.Contains(ev.Message, tt.second) {
				t.Errorf("the event names a patient: %q", ev.Message)
			}
			why := e.reasonFile(t, tt.second+"/after/b.jpg")
			for _, want := range []string{"(similar-name)", "differ in " + tt.differ + ")", `rename the folder to "` + tt.first + `"`, layout.IDLayout} {
				if !strings.Contains(why, want) {
					t.Errorf("reason file lacks %q:\n%s", want, why)
				}
			}
			// Once the first spelling is gone from the inbox, the vault
			// cannot say how it was spelled, and the reason says so.
			os.RemoveAll(filepath.Join(e.inbox, tt.first))
			put(t, e.inbox, tt.second+"/after/c.jpg", p[2])
			if sum, err := e.run(t, Options{}); err != nil || sum.Quarantined != 1 || len(e.lookAlikes()) != 1 {
				t.Fatalf("third run: %+v, %v, %+v", sum, err, e.events)
			}
			why = e.reasonFile(t, tt.second+"/after/c.jpg")
			if strings.Contains(why, tt.first) || strings.Contains(why, "differ in") || !strings.Contains(why, "cannot show") {
				t.Errorf("reason file without the first spelling in the inbox:\n%s", why)
			}
			e.verify(t)
		})
	}
}

// TestLookAlikeOfQuarantined: the spelling a look-alike resembles is named
// when only the inbox's quarantine shows it (a file of that patient set
// aside for an unknown phase).
func TestLookAlikeOfQuarantined(t *testing.T) {
	e := newEnv(t)
	p := photos(t, 3)
	put(t, e.inbox, "José Garcia/before/a.jpg", p[0])
	put(t, e.inbox, "José Garcia/later/b.jpg", p[1])
	if sum, err := e.run(t, Options{}); err != nil || sum.Ingested != 1 || sum.Quarantined != 1 {
		t.Fatalf("first run: %+v, %v", sum, err)
	}
	os.RemoveAll(filepath.Join(e.inbox, "José Garcia"))
	put(t, e.inbox, "Jose Garcia/after/c.jpg", p[2])
	if sum, err := e.run(t, Options{}); err != nil || len(e.lookAlikes()) != 1 {
		t.Fatalf("second run: %+v, %v, %+v", sum, err, e.events)
	}
	if why := e.reasonFile(t, "Jose Garcia/after/c.jpg"); !strings.Contains(why, `rename the folder to "José Garcia"`) {
		t.Errorf("reason file:\n%s", why)
	}
}

// TestLookAlikesInOneRun: of two look-alike spellings in one run, the first
// taken becomes the subject and the other is held; names that are not
// look-alikes (Ann, Ann Lee) are two patients; renaming the held folder to
// the first spelling merges it.
func TestLookAlikesInOneRun(t *testing.T) {
	e := newEnv(t)
	p := photos(t, 5)
	put(t, e.inbox, "José Garcia/before/a.jpg", p[0])
	put(t, e.inbox, "Jose Garcia/before/b.jpg", p[1])
	put(t, e.inbox, "Ann/before/c.jpg", p[2])
	put(t, e.inbox, "Ann Lee/before/d.jpg", p[3])
	sum, err := e.run(t, Options{Workers: 2})
	if err != nil || sum.Ingested != 3 || len(e.lookAlikes()) != 1 {
		t.Fatalf("%+v, %v, %+v", sum, err, e.events)
	}
	subjects := map[string]bool{}
	for _, ev := range e.events {
		if ev.Kind == Ingested {
			subjects[ev.Subject] = true
		}
	}
	if len(subjects) != 3 {
		t.Errorf("%d subjects, want 3 (a Garcia, Ann, Ann Lee)", len(subjects))
	}
	// Which spelling was taken first is up to the workers; the reason
	// names the other.
	held := filepath.ToSlash(strings.TrimPrefix(e.lookAlikes()[0].Path, e.inbox+string(filepath.Separator)))
	first := map[string]string{"Jose Garcia": "José Garcia", "José Garcia": "Jose Garcia"}[strings.Split(held, "/")[0]]
	why := e.reasonFile(t, held)
	if !strings.Contains(why, "differ in accents") || !strings.Contains(why, `rename the folder to "`+first+`"`) {
		t.Errorf("reason file of %s:\n%s", held, why)
	}

	// Staff rename it to the first spelling and move it back: it joins
	// that patient.
	if err := os.MkdirAll(filepath.Join(e.inbox, first, "after"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(e.inbox, inbox.QuarantineDir, filepath.FromSlash(held)), filepath.Join(e.inbox, first, "after", "moved.jpg")); err != nil {
		t.Fatal(err)
	}
	if sum, err := e.run(t, Options{}); err != nil || sum.Ingested != 1 {
		t.Fatalf("after the rename: %+v, %v", sum, err)
	}
	for _, ev := range e.events {
		if ev.Kind == Ingested && !subjects[ev.Subject] {
			t.Errorf("the renamed file got a new subject %s", ev.Subject)
		}
	}
	e.verify(t)
}

// TestIDLayout: with {id}, the ID alone is the patient: two patients with
// one name stay apart, two spellings of one ID are one patient, nothing is
// held for a look-alike name, and the sealed detail keeps the ID.
func TestIDLayout(t *testing.T) {
	e := newEnv(t)
	lay, err := layout.ParseLayout(layout.IDLayout, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := photos(t, 4)
	put(t, e.inbox, "Jane Doe (A-1)/before/a.jpg", p[0])
	put(t, e.inbox, "Jane Doe (A-2)/before/b.jpg", p[1])
	put(t, e.inbox, "JANE DOE (a-1)/after/c.jpg", p[2])
	put(t, e.inbox, "Jäne Doe (A-1)/after/d.jpg", p[3])
	sum, err := e.run(t, Options{Layout: lay})
	if err != nil || sum.Ingested != 4 {
		t.Fatalf("%+v, %v, %+v", sum, err, e.events)
	}
	byPhoto := map[string]string{}
	for _, ev := range e.events {
		byPhoto[ev.Photo] = ev.Subject
	}
	c, err := vault.LoadCustodian(filepath.Join(filepath.Dir(templateDir), "custodian.age"), []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	subjectOf := map[string]string{} // file name -> subject
	patient := map[string]string{}   // file name -> sealed patient
	err = manifest.Scan(e.v.LogDir(), func(_ int64, line []byte) error {
		r, err := manifest.Parse(line)
		if in, ok := r.(*manifest.Ingest); ok && err == nil {
			d, err := manifest.Unseal(in.Sealed, c.Identity)
			if err != nil {
				return err
			}
			subjectOf[d.Name], patient[d.Name] = in.Subject, d.PatientKey
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := subjectOf["a.jpg"]; a == "" || subjectOf["c.jpg"] != a || subjectOf["d.jpg"] != a || subjectOf["b.jpg"] == a {
		t.Errorf("subjects: %v; want a, c, d one patient (A-1) and b another (A-2)", subjectOf)
	}
	if patient["a.jpg"] != "id:A-1 Jane Doe" || patient["c.jpg"] != "id:a-1 JANE DOE" {
		t.Errorf("sealed patients: %v", patient)
	}
	e.verify(t)
}

// TestIntervalsReleased: a time point reaches the ingest record and
// index.csv; a practice's alias is read with its interval; verify agrees.
func TestIntervalsReleased(t *testing.T) {
	e := newEnv(t)
	a, err := layout.ParsePhaseAlias("recheck=followup:P6W")
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := layout.NewVocabulary(a)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := layout.ParseLayout(layout.DefaultLayout, vocab)
	if err != nil {
		t.Fatal(err)
	}
	p := photos(t, 4)
	put(t, e.inbox, "Ann/2 weeks post/a.jpg", p[0])
	put(t, e.inbox, "Ann/6mo/b.jpg", p[1])
	put(t, e.inbox, "Ann/pre-op/c.jpg", p[2])
	put(t, e.inbox, "Ann/recheck/d.jpg", p[3])
	if sum, err := e.run(t, Options{Layout: lay}); err != nil || sum.Ingested != 4 {
		t.Fatalf("%+v, %v, %+v", sum, err, e.events)
	}
	want := map[string]bool{"followup,P2W": true, "followup,P6M": true, "before,": true, "followup,P6W": true}
	logged := map[string]bool{}
	manifest.Scan(e.v.LogDir(), func(_ int64, line []byte) error {
		if r, err := manifest.Parse(line); err == nil {
			if in, ok := r.(*manifest.Ingest); ok {
				logged[in.Phase+","+in.Interval] = true
			}
		}
		return nil
	})
	csv, _ := os.ReadFile(filepath.Join(e.release, release.IndexFile))
	listed := map[string]bool{}
	release.ReadIndex(bytes.NewReader(csv), func(_ int, r release.Row) error { listed[r.Phase+","+r.Interval] = true; return nil })
	for w := range want {
		if !logged[w] || !listed[w] {
			t.Errorf("%s: logged %v, in index.csv %v\n%s", w, logged[w], listed[w], csv)
		}
	}
	e.verify(t)
}

// TestOldKeySchemeRefused: a vault whose index holds subject keys of the
// older scheme (no "v" line) is refused, not silently split.
func TestOldKeySchemeRefused(t *testing.T) {
	e := newEnv(t)
	old := "s " + strings.Repeat("ab", 32) + " 6686c17a-6b8a-4c4e-9f3a-0c7e1d2b3a4f\n"
	if err := os.WriteFile(filepath.Join(e.v.IndexDir(), "ingest.idx"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(e.v, e.lock(t), Options{Release: e.release})
	if !errors.Is(err, lookup.ErrOldKeys) {
		t.Fatalf("New on an index of the old key scheme: %v", err)
	}
}
