package layout

import (
	"errors"
	"strings"
	"testing"
)

func TestLayoutMatch(t *testing.T) {
	tests := []struct {
		layout, path   string
		patient, phase string
		err            error
	}{
		{DefaultLayout, "Jane Doe/before/IMG_0001.jpg", "Jane Doe", "before", nil},
		{DefaultLayout, "Jane Doe/Pre-Op/IMG_0001.jpg", "Jane Doe", "before", nil},
		{DefaultLayout, "jane doe/POSTOP/a.png", "jane doe", "after", nil},
		{DefaultLayout, "x/follow-up/a.png", "x", "followup", nil},
		{DefaultLayout, "x/intra-op/a.png", "x", "intraop", nil},
		{DefaultLayout, "x/during/a.png", "", "", ErrPhase},
		{DefaultLayout, "x/a.png", "", "", ErrLayout},
		{DefaultLayout, "x/before/deeper/a.png", "", "", ErrLayout},
		{"{patient}_{phase}_*", "Jane Doe_pre_0001.jpg", "Jane Doe", "before", nil},
		{"{patient}_{phase}_*", "Mary_Ann_post_1.jpg", "Mary_Ann", "after", nil},
		{"{patient}_{phase}_*", "Mary_Ann_later_1.jpg", "", "", ErrPhase},
		{"{patient}_{phase}_*", "nounderscores.jpg", "", "", ErrLayout},
		{"{patient}/{phase}-*", "jane doe/post-op-2.png", "jane doe", "after", nil},
		{"**/{patient}/{phase}/*", "2026/clinic-2/Jane Doe/after/a.webp", "Jane Doe", "after", nil},
		{"**/{patient}/{phase}/*", "Jane Doe/after/a.webp", "Jane Doe", "after", nil},
		{"{patient}/*/{phase}/*", "Jane Doe/rhinoplasty/before/a.jpg", "Jane Doe", "before", nil},
		{"Patients/{patient}/{phase}/*", "patients/J/before/a.jpg", "J", "before", nil},
	}
	for _, tt := range tests {
		l, err := ParseLayout(tt.layout, nil)
		if err != nil {
			t.Fatalf("ParseLayout(%q): %v", tt.layout, err)
		}
		p, err := l.Match(tt.path)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: Match(%q) error %v, want %v", tt.layout, tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || p.Patient != tt.patient || p.Phase != tt.phase {
			t.Errorf("%s: Match(%q) = %q %q, %v; want %q %q", tt.layout, tt.path, p.Patient, p.Phase, err, tt.patient, tt.phase)
		}
	}
}

func TestParseLayoutRejects(t *testing.T) {
	for _, s := range []string{"", "{patient}/*", "{phase}/*", "{patient}/{phase}/{patient}", "/{patient}/{phase}/*",
		"{patient}//{phase}/*", "{patient}/{phase}/**", "{patient}/{date}/{phase}/*", "../{patient}/{phase}/*", "{patient}/{phase}**/*"} {
		if _, err := ParseLayout(s, nil); err == nil {
			t.Errorf("ParseLayout(%q) accepted", s)
		}
	}
}

func TestLayoutMatchTimePoints(t *testing.T) {
	tests := []struct {
		layout, path     string
		phase, interval  string
		patient, phaseAs string
	}{
		{DefaultLayout, "Jane Doe/2 weeks post/a.jpg", Followup, "P2W", "Jane Doe", "2 weeks post"},
		{DefaultLayout, "Jane Doe/post op 6 mo/a.jpg", Followup, "P6M", "Jane Doe", "post op 6 mo"},
		{DefaultLayout, "Jane Doe/6mo/a.jpg", Followup, "P6M", "Jane Doe", "6mo"},
		{DefaultLayout, "Jane Doe/1 Year/a.jpg", Followup, "P1Y", "Jane Doe", "1 Year"},
		{DefaultLayout, "Jane Doe/pre op/a.jpg", Before, "", "Jane Doe", "pre op"},
		{DefaultLayout, "Jane Doe/pre-/a.jpg", Before, "", "Jane Doe", "pre-"},
		{"{patient}_{phase}_*", "Mary_Ann_6mo_1.jpg", Followup, "P6M", "Mary_Ann", "6mo"},
		{"{patient}_{phase}_*", "Mary_Ann_3_months_after_1.jpg", Followup, "P3M", "Mary_Ann", "3_months_after"},
		{"{patient}_{phase}_*", "Mary_Ann_post_op_1.jpg", After, "", "Mary_Ann", "post_op"},
		{"{patient}/{phase}-*", "jane doe/post-op-2.png", After, "", "jane doe", "post-op"},
	}
	for _, tt := range tests {
		l, err := ParseLayout(tt.layout, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.Match(tt.path)
		if err != nil || p.Phase != tt.phase || p.Interval != tt.interval || p.Patient != tt.patient || p.PhaseText != tt.phaseAs {
			t.Errorf("%s: Match(%q) = %+v, %v; want %s %s %q %q", tt.layout, tt.path, p, err, tt.phase, tt.interval, tt.patient, tt.phaseAs)
		}
	}
}

func TestLayoutID(t *testing.T) {
	tests := []struct {
		layout, path string
		patient, id  string
		key          string
		err          error
	}{
		{IDLayout, "Jane Doe (483920)/before/a.jpg", "Jane Doe", "483920", "id:483920", nil},
		{IDLayout, "Jane Doe (MRN-7a)/6 months/a.jpg", "Jane Doe", "MRN-7a", "id:mrn-7a", nil},
		{IDLayout, "Jane (Janie) Doe (MRN-7A)/after/a.jpg", "Jane (Janie) Doe", "MRN-7A", "id:mrn-7a", nil},
		{IDLayout, "Jane Doe (４８３９２０)/after/a.jpg", "Jane Doe", "４８３９２０", "id:483920", nil},
		{IDLayout, "Jane Doe ( 483920 )/after/a.jpg", "Jane Doe", " 483920 ", "id:483920", nil},
		{IDLayout, "Jane Doe ()/after/a.jpg", "", "", "", ErrLayout},
		{IDLayout, "Jane Doe ( )/after/a.jpg", "", "", "", ErrID},
		{IDLayout, "Jane Doe (123 456)/after/a.jpg", "", "", "", ErrID},
		{IDLayout, "Jane Doe/after/a.jpg", "", "", "", ErrLayout},
		{"{id}_{patient}/{phase}/*", "483920_Jane_Doe/before/a.jpg", "Jane_Doe", "483920", "id:483920", nil},
		{"{id}_{patient}/{phase}/*", "A-12.7_Jane_Doe/before/a.jpg", "Jane_Doe", "A-12.7", "id:a-12.7", nil},
		{"{patient}_{id}/{phase}/*", "Jane_Doe_A-12/before/a.jpg", "Jane_Doe", "A-12", "id:a-12", nil},
		{"MRN {id}/{phase}/*", "mrn 77/before/a.jpg", "", "77", "id:77", nil},
		{"{patient} ({id})/{phase}/*", "Jane Doe (A_12)/before/a.jpg", "", "", "", ErrID},
		{"{id}/{phase}/*", "483920/2wk/a.jpg", "", "483920", "id:483920", nil},
		{"{id}/{phase}/*", "483920/soon/a.jpg", "", "", "", ErrPhase},
	}
	for _, tt := range tests {
		l, err := ParseLayout(tt.layout, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.Match(tt.path)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: Match(%q) error %v, want %v", tt.layout, tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || p.Patient != tt.patient || p.ID != tt.id || p.Key != tt.key || p.LooseKey != "" {
			t.Errorf("%s: Match(%q) = %+v, %v; want %q %q %q", tt.layout, tt.path, p, err, tt.patient, tt.id, tt.key)
		}
	}
}

// A name that reads like an ID and the same text as an ID are two subjects.
func TestKeySpacesDisjoint(t *testing.T) {
	byName, _ := ParseLayout("{patient}/{phase}/*", nil)
	byID, _ := ParseLayout("{id}/{phase}/*", nil)
	a, err1 := byName.Match("483920/before/a.jpg")
	b, err2 := byID.Match("483920/before/a.jpg")
	if err1 != nil || err2 != nil || a.Key == b.Key || a.Key != "name:483920" || b.Key != "id:483920" {
		t.Errorf("keys %q (%v) and %q (%v)", a.Key, err1, b.Key, err2)
	}
	if a.LooseKey != "483920" {
		t.Errorf("loose key %q", a.LooseKey)
	}
}

func TestLayoutAliases(t *testing.T) {
	a1, err := ParsePhaseAlias("recheck=followup:P6W")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := ParsePhaseAlias("vorher=before")
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVocabulary(a1, a2)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseLayout("{patient}_{phase}_*", v)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]Term{
		"Jane_Doe_recheck_1.jpg":    {Followup, "P6W"},
		"Jane_Doe_Vorher_1.jpg":     {Before, ""},
		"Jane_Doe_vorher_2wk_1.jpg": {Before, "P2W"},
		"Jane_Doe_pre_1.jpg":        {Before, ""},
	} {
		p, err := l.Match(path)
		if err != nil || p.Phase != want.Phase || p.Interval != want.Interval || p.Patient != "Jane_Doe" {
			t.Errorf("Match(%q) = %+v, %v; want %v", path, p, err, want)
		}
	}
	_, err = l.Match("Jane_Doe_nachher_1.jpg")
	if !errors.Is(err, ErrPhase) || !strings.Contains(err.Error(), "recheck (followup P6W), vorher (before)") {
		t.Errorf("unknown phase error %v does not list the practice's words", err)
	}
	// Without the aliases the same path is an unknown phase.
	plain, _ := ParseLayout("{patient}_{phase}_*", nil)
	if _, err := plain.Match("Jane_Doe_recheck_1.jpg"); !errors.Is(err, ErrPhase) {
		t.Errorf("built-in vocabulary knows recheck: %v", err)
	}
}

func TestLayoutIDRejects(t *testing.T) {
	for _, s := range []string{"{id}/{id}/{phase}/*", "{patient}/{patient} ({id})/{phase}/*", "{id}/*", "{patient} ({id})/*",
		"{patient}-{id}/{phase}/*", "{id}-{patient}/{phase}/*", "{id}{patient}/{phase}/*", "{patient}/{phase}/{id}*",
		"MRN{id}/{phase}/*", "{id}.{phase}/*"} {
		if _, err := ParseLayout(s, nil); err == nil {
			t.Errorf("ParseLayout(%q) accepted", s)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, tt := range [][2]string{
		{DefaultLayout, "Jane Doe/post op 6 mo/IMG_0001.jpg"},
		{IDLayout, "Jane (Janie) Doe (MRN-7A)/2 weeks post/IMG_0001.jpg"},
		{"**/{patient}_{phase}_*", "2026/clinic-2/Mary_Ann_3_months_after_0001.jpg"},
	} {
		l, err := ParseLayout(tt[0], nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tt[0], func(b *testing.B) {
			for b.Loop() {
				if _, err := l.Match(tt[1]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
