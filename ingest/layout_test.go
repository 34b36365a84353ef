package ingest

import (
	"errors"
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
		l, err := ParseLayout(tt.layout)
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
		if _, err := ParseLayout(s); err == nil {
			t.Errorf("ParseLayout(%q) accepted", s)
		}
	}
}

func TestNormalizePatient(t *testing.T) {
	same := []string{"Jane  DOE", "jane doe", " Jane Doe ", "Jane_Doe", "JÁNE DOÉ", "Jane\tDoe", "Ｊａｎｅ Ｄｏｅ"}
	for _, s := range same {
		if got := NormalizePatient(s); got != "jane doe" {
			t.Errorf("NormalizePatient(%q) = %q, want %q", s, got, "jane doe")
		}
	}
	if NormalizePatient("Jane Doe") == NormalizePatient("Jane Dow") {
		t.Error("different names normalize alike")
	}
	if got := NormalizePatient("Straße"); got != "strasse" {
		t.Errorf("NormalizePatient(Straße) = %q", got)
	}
}
