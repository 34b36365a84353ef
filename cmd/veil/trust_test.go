package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The holes an insider with write access to the vault folder (but not to
// the 0600 keys) found, each through the CLI (issue 13).

// TestSwappedRecipientCLI: vault.json and VAULT/auditor.pub rewritten with
// the attacker's recipient. ingest refuses and keeps the photo in the
// inbox, verify with the vault's own auditor.pub reports it from the log's
// config record, and the custodian's rekey puts it right.
func TestSwappedRecipientCLI(t *testing.T) {
	tv := newTestVault(t)
	v, err := vault.Open(tv.dir)
	if err != nil {
		t.Fatal(err)
	}
	attacker, _ := age.GenerateX25519Identity()
	if err := v.SetKeys([]string{attacker.Recipient().String()}, v.PublicKeys().CustodianVerifiers); err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(t.TempDir(), "inbox")
	photo := filepath.Join(inbox, "Jane Doe", "before", "a.jpg")
	os.MkdirAll(filepath.Dir(photo), 0o755)
	sample, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", "phone-rotated6.jpg"))
	os.WriteFile(photo, sample, 0o644)
	blobsBefore := countFiles(t, filepath.Join(tv.dir, "blobs"))

	_, errOut, code := veil(t, "ingest", "--vault", tv.dir, "--out", tv.release, "--settle", "0", inbox)
	if code != exitVerifyFail || !strings.Contains(errOut, "vault.json differs from the keys a custodian committed") ||
		!strings.Contains(errOut, attacker.Recipient().String()[:20]) {
		t.Fatalf("ingest with a swapped recipient: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(photo); err != nil || countFiles(t, filepath.Join(tv.dir, "blobs")) != blobsBefore {
		t.Fatal("a photo was taken or encrypted after the refusal")
	}

	own := filepath.Join(tv.dir, "auditor.pub")
	out, errOut, code := veil(t, "verify", "--vault", tv.dir, "--pub", own)
	if code != exitVerifyFail || !strings.Contains(out, "vault.json: recipient "+attacker.Recipient().String()[:20]) {
		t.Fatalf("verify with the vault's own auditor.pub: exit %d\n%s%s", code, out, errOut)
	}

	if out, errOut, code := veil(t, tv.custodianArgs("rekey")...); code != 0 {
		t.Fatalf("rekey: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := veil(t, "ingest", "--vault", tv.dir, "--out", tv.release, "--settle", "0", inbox); code != 0 {
		t.Fatalf("ingest after rekey: exit %d\n%s", code, errOut)
	}
	if out, errOut, code := tv.verify(t); code != 0 {
		t.Fatalf("verify after rekey: exit %d\n%s%s", code, out, errOut)
	}
}

// TestForgedRecordNotSigned: a well-formed record appended by someone
// without the log key, or a removed checkpoint: the next ingest signs
// nothing, names the record and exits 3, changing nothing.
func TestForgedRecordNotSigned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(logDir string, lines [][]byte)
		want   string
	}{
		{"record appended", func(logDir string, lines [][]byte) {
			f, _ := os.OpenFile(filepath.Join(logDir, manifest.RecordsFile), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(lines[len(lines)-1])
			f.Close()
		}, "record 4 was not written by this host's log key"},
		{"checkpoint and hashes removed", func(logDir string, _ [][]byte) {
			os.Remove(filepath.Join(logDir, manifest.CheckpointFile))
			os.Remove(filepath.Join(logDir, manifest.HashesFile))
		}, "record 0 was not written by this host's log key (log/checkpoint is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tv := newTestVault(t)
			logDir := filepath.Join(tv.dir, "log")
			tc.tamper(logDir, logLines(t, logDir))
			before, _ := os.ReadFile(filepath.Join(logDir, manifest.CheckpointFile))
			_, errOut, code := veil(t, "ingest", "--vault", tv.dir, "--out", tv.release, "--settle", "0", t.TempDir())
			if code != exitVerifyFail || !strings.Contains(errOut, tc.want) {
				t.Fatalf("ingest: exit %d, want 3 and %q\n%s", code, tc.want, errOut)
			}
			if after, _ := os.ReadFile(filepath.Join(logDir, manifest.CheckpointFile)); !bytes.Equal(before, after) {
				t.Error("the checkpoint changed")
			}
			if _, _, code := tv.verify(t); code != exitVerifyFail {
				t.Errorf("verify after the refusal: exit %d, want 3", code)
			}
		})
	}
}

// TestAccessReplayAndErasure: someone who holds the host's log key (the
// worst case short of the custodian's key) copies a custodian-signed access
// record to the end of the log and re-signs it; or removes an access made
// after the auditor's last pin and re-signs. The first is a finding on its
// own; the second is caught by the custodian's receipt.
func TestAccessReplayAndErasure(t *testing.T) {
	tv := newTestVault(t)
	receipt := filepath.Join(t.TempDir(), "receipt")
	out, errOut, code := veil(t, append(tv.custodianArgs("reveal"), "--reason", "patient request #12", "--receipt", receipt, testPhotoCodes[0])...)
	if code != 0 || !strings.Contains(errOut, "receipt (the signed checkpoint that includes this access") {
		t.Fatalf("reveal: exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(receipt); err != nil || !bytes.Contains(b, []byte("\n5\n")) {
		t.Fatalf("receipt: %q, %v", b, err)
	}
	logDir := filepath.Join(tv.dir, "log")
	lines := logLines(t, logDir)
	access := lines[len(lines)-1]

	t.Run("replayed", func(t *testing.T) {
		resignLog(t, tv.dir, append(lines, access))
		out, _, code := tv.verify(t)
		if code != exitVerifyFail || !strings.Contains(out, "record 5: access: the same signed record as record 4 (a replay)") {
			t.Fatalf("replayed access: exit %d\n%s", code, out)
		}
	})
	t.Run("erased", func(t *testing.T) {
		resignLog(t, tv.dir, lines[:len(lines)-1])
		if out, _, code := tv.verify(t); code != 0 {
			t.Fatalf("without the receipt the erasure is invisible by design (documented): exit %d\n%s", code, out)
		}
		out, _, code := tv.verify(t, "--checkpoint", receipt)
		if code != exitVerifyFail || !strings.Contains(out, "rollback") {
			t.Fatalf("erased access with the receipt pinned: exit %d\n%s", code, out)
		}
	})
}

func logLines(t *testing.T, logDir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(logDir, manifest.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

// resignLog is what a holder of VAULT/keys/log.key can do: write any
// records, their stored hashes and a checkpoint signed over them.
func resignLog(t *testing.T, dir string, lines [][]byte) {
	t.Helper()
	v, err := vault.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := v.LogSigner()
	if err != nil {
		t.Fatal(err)
	}
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, l := range lines {
		hs, err := tlog.StoredHashes(int64(i), bytes.TrimSuffix(l, []byte("\n")), reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	root, err := tlog.TreeHash(int64(len(lines)), reader)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []byte
	for _, h := range stored {
		hashes = append(hashes, h[:]...)
	}
	msg, err := note.Sign(&note.Note{Text: string(manifest.Checkpoint{Origin: v.Origin(), N: int64(len(lines)), Hash: root}.Text())}, signer)
	if err != nil {
		t.Fatal(err)
	}
	logDir := v.LogDir()
	for name, b := range map[string][]byte{manifest.RecordsFile: bytes.Join(lines, nil), manifest.HashesFile: hashes, manifest.CheckpointFile: msg} {
		if err := os.WriteFile(filepath.Join(logDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
