package manifest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	f := newFixture(t)
	for i, line := range f.lines(t) {
		line = line[:len(line)-1]
		r, err := Parse(line)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		back, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(back) != string(line) {
			t.Errorf("record %d: Marshal(Parse(line)) =\n%s\nwant\n%s", i, back, line)
		}
	}
}

func TestMarshalNormalizesTime(t *testing.T) {
	k := newKeys(t)
	local := time.Date(2025, 11, 25, 15, 0, 0, 123456789, time.FixedZone("CET", 3600))
	b, err := Marshal(&Quarantine{Reason: "format", Time: local, Sealed: seal(t, k, Detail{Name: "a.heic"})})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"time":"2025-11-25T14:00:00Z"`) {
		t.Errorf("time not normalized to whole UTC seconds: %s", b)
	}
}

// TestParseStrict feeds lines that must each be rejected, naming why.
func TestParseStrict(t *testing.T) {
	k := newKeys(t)
	sealed := seal(t, k, Detail{Name: "x.jpg"})
	good, err := Marshal(&Quarantine{Reason: "phase", Time: testTime, Sealed: sealed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("good line rejected: %v", err)
	}
	g := string(good)
	cases := []struct{ name, line, want string }{
		{"not json", "hello", "not a JSON record"},
		{"empty", "", "not a JSON record"},
		{"version 2", strings.Replace(g, `"v":1`, `"v":2`, 1), "unsupported record version 2"},
		{"no version", strings.Replace(g, `"v":1,`, ``, 1), "unsupported record version 0"},
		{"unknown type", strings.Replace(g, `"quarantine"`, `"erase"`, 1), `unknown record type "erase"`},
		{"unknown field", strings.Replace(g, `}`, `,"name":"Jane"}`, 1), `unknown field "name"`},
		{"wrong type", strings.Replace(g, `"reason":"phase"`, `"reason":7`, 1), "cannot unmarshal number"},
		{"spacing", strings.Replace(g, `,"reason"`, `, "reason"`, 1), "not in canonical form"},
		{"key order", `{"type":"quarantine","v":1` + g[strings.Index(g, `,"reason"`):], "not in canonical form"},
		{"duplicate key", strings.Replace(g, `"reason":"phase"`, `"reason":"phase","reason":"phase"`, 1), "not in canonical form"},
		{"trailing data", g + `{}`, "trailing data"},
		{"time zone", strings.Replace(g, `14:00:00Z`, `15:00:00+01:00`, 1), "not whole seconds in UTC"},
		{"fraction of a second", strings.Replace(g, `14:00:00Z`, `14:00:00.5Z`, 1), "not whole seconds in UTC"},
		{"free text reason", strings.Replace(g, `"reason":"phase"`, `"reason":"Jane Doe's photo"`, 1), "not a reason category"},
		{"plain-text sealed", strings.Replace(g, sealed, "eyJwYXRoIjoiL2hvbWUvamFuZSJ9", 1), "not age ciphertext"},
		{"too long", `{"v":1,"type":"quarantine","x":"` + strings.Repeat("a", MaxRecordSize) + `"}`, "more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.line))
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("Parse = %v, want a *SchemaError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestIngestFieldsCarryNoPHI checks that the public fields refuse the shapes
// identifying data comes in.
func TestIngestFieldsCarryNoPHI(t *testing.T) {
	f := newFixture(t)
	base := *f.photos[0]
	cases := []struct {
		name string
		edit func(r *Ingest)
		want string
	}{
		{"photo code is a name", func(r *Ingest) { r.Photo = "jane-doe" }, "photo"},
		{"UUIDv1 code (embeds time and MAC)", func(r *Ingest) { r.Photo = "6ba7b810-9dad-11d1-80b4-00c04fd430c8" }, "photo"},
		{"upper-case code", func(r *Ingest) { r.Subject = strings.ToUpper(r.Subject) }, "subject"},
		{"released path keeps the original name", func(r *Ingest) { r.Released.Path = r.Subject + "/IMG_0001.jpg" }, "released.path"},
		{"released path outside the subject", func(r *Ingest) { r.Released.Path = "../" + r.Photo + ".jpg" }, "released.path"},
		{"phase outside the vocabulary", func(r *Ingest) { r.Phase = "2024-03-01" }, "phase"},
		{"format with text", func(r *Ingest) { r.Format = "Jane's JPEG" }, "format"},
		{"hash not hex", func(r *Ingest) { r.Blob.SHA256 = strings.Repeat("z", 64) }, "blob.sha256"},
		{"no time", func(r *Ingest) { r.Time = time.Time{} }, "time"},
		{"no sealed detail", func(r *Ingest) { r.Sealed = "" }, "sealed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.edit(&r)
			_, err := Marshal(&r)
			var se *SchemaError
			if !errors.As(err, &se) || se.Field != tc.want {
				t.Errorf("Marshal = %v, want a schema error on %s", err, tc.want)
			}
		})
	}
}

func TestSealUnseal(t *testing.T) {
	k := newKeys(t)
	d := Detail{Path: "inbox/MRN-1/before/IMG_1.jpg", Name: "IMG_1.jpg", PatientKey: "MRN-1", Phase: "pre",
		SHA256: strings.Repeat("ab", 32), Size: 42, ModTime: testTime}
	s := seal(t, k, d)
	if strings.Contains(s, "MRN") {
		t.Fatal("sealed field shows plain text")
	}
	got, err := Unseal(s, k.identity)
	if err != nil {
		t.Fatal(err)
	}
	if got != d {
		t.Errorf("Unseal = %+v, want %+v", got, d)
	}
	if _, err := Unseal(s, newKeys(t).identity); err == nil {
		t.Error("another identity opened the sealed detail")
	}
}

func TestAccessSignature(t *testing.T) {
	k := newKeys(t)
	a := &Access{Action: ActionRestore, Codes: []string{newUUID(t)}, Reason: "court order 2025-17", Time: testTime}
	if err := VerifyAccess(a, k.custodianKeys()); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v, want ErrUnsigned", err)
	}
	if err := SignAccess(a, k.custodian); err != nil {
		t.Fatal(err)
	}
	if err := VerifyAccess(a, k.custodianKeys()); err != nil {
		t.Fatalf("signed record: %v", err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if err := VerifyAccess(a, []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}); !errors.Is(err, ErrUnknownCustodian) {
		t.Errorf("untrusted key: %v, want ErrUnknownCustodian", err)
	}
	for _, edit := range []func(*Access){
		func(a *Access) { a.Reason = "curiosity" },
		func(a *Access) { a.Action = ActionReveal },
		func(a *Access) { a.Codes = append(a.Codes, newUUID(t)) },
		func(a *Access) { a.Time = a.Time.Add(time.Hour) },
	} {
		c := *a
		edit(&c)
		if err := VerifyAccess(&c, k.custodianKeys()); !errors.Is(err, ErrBadSignature) {
			t.Errorf("edited record: %v, want ErrBadSignature", err)
		}
	}
	// The signature survives the round trip through the log's encoding.
	b, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyAccess(r.(*Access), k.custodianKeys()); err != nil {
		t.Errorf("after Parse: %v", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts is canonical: it
// marshals back to the same bytes, so a record has one leaf hash.
func FuzzParse(f *testing.F) {
	fx := newFixture(f)
	for _, line := range fx.lines(f) {
		f.Add(line[:len(line)-1])
	}
	f.Add([]byte(`{"v":1,"type":"access","action":"reveal","codes":[],"reason":"","time":"2025-01-01T00:00:00Z","custodian":"","sig":""}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := Parse(line)
		if err != nil {
			return
		}
		back, err := Marshal(r)
		if err != nil {
			t.Fatalf("accepted record does not marshal: %v", err)
		}
		if string(back) != string(line) {
			t.Fatalf("accepted non-canonical line:\n%s\nmarshals as\n%s", line, back)
		}
	})
}

// FuzzParseCheckpoint: accepted checkpoints format back to the same text.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("veil/0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5b\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte("go.sum database tree\n5\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			return
		}
		if string(c.Text()) != string(text) {
			t.Fatalf("accepted %q, formats as %q", text, c.Text())
		}
	})
}
