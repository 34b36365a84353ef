package manifest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestVerifyClean is the control for the tamper suite: an untouched log
// verifies without findings.
func TestVerifyClean(t *testing.T) {
	f := newFixture(t)
	rep := f.verify(t)
	for _, x := range rep.Findings {
		t.Errorf("finding: %s", x)
	}
	if rep.Records != 9 || rep.Photos != 6 || rep.Subjects != 2 || rep.Duplicates != 1 || rep.Quarantines != 1 || rep.Accesses != 1 {
		t.Errorf("report counts = %+v", rep)
	}
	if rep.Checkpoint == nil || rep.Checkpoint.N != 9 {
		t.Errorf("checkpoint = %+v, want size 9", rep.Checkpoint)
	}
}

// TestTamper damages a real log in every way the audit must catch (the
// files it names are damaged in package audit's tests). Each case names the
// finding it must produce.
func TestTamper(t *testing.T) {
	editRecord := func(t *testing.T, f *fixture, i int, edit func(m map[string]any)) []byte {
		lines := f.lines(t)
		var m map[string]any
		if err := json.Unmarshal(lines[i], &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		// Keep canonical key order: v and type first, as Marshal writes them.
		lines[i] = append(reorder(t, b, lines[i]), '\n')
		return bytes.Join(lines, nil)
	}
	const access = 8 // index of the access record in the fixture

	cases := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		want   string // substring of a finding
	}{
		{"record byte flipped", func(t *testing.T, f *fixture) {
			b, _ := os.ReadFile(filepath.Join(f.logDir, RecordsFile))
			i := bytes.Index(b, []byte(`"width":640`)) + len(`"width":6`)
			b[i] = '5' // still a valid record: only the tree can tell
			writeFile(t, filepath.Join(f.logDir, RecordsFile), b)
		}, "record 0: content differs from the hash stored"},
		{"record byte flipped, hashes rebuilt", func(t *testing.T, f *fixture) {
			b, _ := os.ReadFile(filepath.Join(f.logDir, RecordsFile))
			i := bytes.Index(b, []byte(`"height":480`)) + len(`"height":4`)
			b[i] = '9'
			writeFile(t, filepath.Join(f.logDir, RecordsFile), b)
			os.Remove(filepath.Join(f.logDir, HashesFile))
		}, "checkpoint: root hash"},
		{"record byte flipped into bad JSON", func(t *testing.T, f *fixture) {
			b, _ := os.ReadFile(filepath.Join(f.logDir, RecordsFile))
			b[1] = 'X'
			writeFile(t, filepath.Join(f.logDir, RecordsFile), b)
		}, "record 0: not a JSON record"},
		{"record deleted", func(t *testing.T, f *fixture) {
			lines := f.lines(t)
			lines = append(lines[:4], lines[5:]...)
			writeFile(t, filepath.Join(f.logDir, RecordsFile), bytes.Join(lines, nil))
		}, "record 4: content differs"},
		{"records swapped", func(t *testing.T, f *fixture) {
			lines := f.lines(t)
			lines[1], lines[2] = lines[2], lines[1]
			writeFile(t, filepath.Join(f.logDir, RecordsFile), bytes.Join(lines, nil))
		}, "record 1: content differs"},
		{"record rewritten and re-signed with the log key", func(t *testing.T, f *fixture) {
			lines := f.lines(t)
			lines[3] = bytes.Replace(lines[3], []byte(`"phase":"before"`), []byte(`"phase":"after"`), 1)
			f.resign(t, lines)
		}, "differs from the pinned checkpoint of the same size 9"},
		{"log truncated below the pinned checkpoint, re-signed", func(t *testing.T, f *fixture) {
			f.resign(t, f.lines(t)[:5])
		}, "fewer than the 9 of the pinned checkpoint (rollback)"},
		{"log truncated, checkpoint kept", func(t *testing.T, f *fixture) {
			f.writeLines(t, f.lines(t)[:7])
		}, "checkpoint: signs 9 records but the log has only 7"},
		{"fork: another log of the same size signed with the same key", func(t *testing.T, f *fixture) {
			other := newFixture(t)
			lines := other.lines(t)
			f.resign(t, lines)
		}, "differs from the pinned checkpoint of the same size 9"},
		{"checkpoint signed by a foreign key", func(t *testing.T, f *fixture) {
			msg, err := os.ReadFile(filepath.Join(f.logDir, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			cp, err := readCheckpointBody(msg)
			if err != nil {
				t.Fatal(err)
			}
			msg, err = SignCheckpoint(cp, newKeysNamed(t, f.origin).signer)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(f.logDir, CheckpointFile), msg)
		}, "checkpoint: not signed by the log key"},
		{"checkpoint deleted", func(t *testing.T, f *fixture) {
			os.Remove(filepath.Join(f.logDir, CheckpointFile))
		}, "checkpoint: missing, but the log has 9 records"},
		{"access record replayed at the end, re-signed with the log key", func(t *testing.T, f *fixture) {
			lines := f.lines(t)
			f.resign(t, append(lines, lines[access]))
		}, "record 9: access: the same signed record as record 8 (a replay)"},
		{"access record moved before another record", func(t *testing.T, f *fixture) {
			lines := f.lines(t)
			lines[access-1], lines[access] = lines[access], lines[access-1]
			f.resign(t, lines)
		}, "record 7: access: signed for position 8"},
		{"access record unsigned", func(t *testing.T, f *fixture) {
			f.resignRaw(t, editRecord(t, f, access, func(m map[string]any) { m["sig"] = "" }))
		}, "record 8: access signature: record is not signed"},
		{"access record signed over other content", func(t *testing.T, f *fixture) {
			f.resignRaw(t, editRecord(t, f, access, func(m map[string]any) { m["reason"] = "routine" }))
		}, "record 8: access signature: signature does not match"},
		{"access record signed by a key that is not a custodian's", func(t *testing.T, f *fixture) {
			lines := f.lines(t)
			r, err := Parse(bytes.TrimSuffix(lines[access], []byte("\n")))
			if err != nil {
				t.Fatal(err)
			}
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			if err := SignAccess(r.(*Access), other); err != nil {
				t.Fatal(err)
			}
			b, _ := Marshal(r)
			lines[access] = append(b, '\n')
			f.resign(t, lines)
		}, "record 8: access signature: signed by a key that is not a custodian key"},
		{"record of unknown type", func(t *testing.T, f *fixture) {
			lines := append(f.lines(t), []byte(`{"v":1,"type":"erase","photo":"x"}`+"\n"))
			f.resign(t, lines)
		}, `record 9: type: unknown record type "erase"`},
		{"record with an unknown field", func(t *testing.T, f *fixture) {
			f.resignRaw(t, editRecord(t, f, 0, func(m map[string]any) { m["patient"] = "Jane Doe" }))
		}, `record 0: ingest record: json: unknown field "patient"`},
		{"record with a field of the wrong type", func(t *testing.T, f *fixture) {
			f.resignRaw(t, editRecord(t, f, 0, func(m map[string]any) { m["phase"] = 3 }))
		}, "record 0: ingest record: json: cannot unmarshal number"},
		{"hashes file damaged", func(t *testing.T, f *fixture) {
			b, _ := os.ReadFile(filepath.Join(f.logDir, HashesFile))
			b[len(b)-1] ^= 1
			writeFile(t, filepath.Join(f.logDir, HashesFile), b)
		}, "hashes file"},
	}
	if len(cases) < 18 {
		t.Fatalf("only %d tamper cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tc.tamper(t, f)
			rep := f.verify(t)
			if rep.OK() {
				t.Fatalf("no finding; want %q", tc.want)
			}
			want := tc.want
			var got []string
			for _, x := range rep.Findings {
				got = append(got, x.String())
			}
			t.Logf("findings:\n%s", strings.Join(got, "\n"))
			for _, g := range got {
				if strings.Contains(g, want) {
					return
				}
			}
			t.Errorf("no finding contains %q; findings:\n%s", want, strings.Join(got, "\n"))
		})
	}
}

// reorder re-encodes an edited record with the keys in the order of the
// original line, so that only the edit makes it differ.
func reorder(t *testing.T, edited, original []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(edited, &m); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(original))
	var keys []string
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	for k := range m {
		found := false
		for _, x := range keys {
			found = found || x == k
		}
		if !found {
			keys = append(keys, k)
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func newKeysNamed(t *testing.T, origin string) *keys {
	k := newKeys(t)
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	if k.signer, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) writeLines(t *testing.T, lines [][]byte) {
	writeFile(t, filepath.Join(f.logDir, RecordsFile), bytes.Join(lines, nil))
}

func (f *fixture) resignRaw(t *testing.T, records []byte) {
	f.resign(t, bytes.SplitAfter(records, []byte("\n"))[:bytes.Count(records, []byte("\n"))])
}
