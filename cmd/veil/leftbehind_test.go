//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/vault"
)

// nobodyEnv runs the real veil binary as the unprivileged user nobody
// (uid 65534), with setpriv, on a vault and a release folder that nobody
// owns and an inbox that root (standing in for the staff) owns: the setup
// of issue 14, where the veil user can read what staff drop but not
// remove it.
type nobodyEnv struct {
	dir, bin, setpriv, vault, release, inbox string
}

func newNobodyEnv(t *testing.T) *nobodyEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run veil as another user with setpriv")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv")
	}
	dir := t.TempDir()
	for d := dir; strings.HasPrefix(d, os.TempDir()+string(filepath.Separator)); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's folders are 0700
	}
	e := &nobodyEnv{dir: dir, bin: filepath.Join(dir, "bin", "veil"), setpriv: setpriv,
		vault: filepath.Join(dir, "vault"), release: filepath.Join(dir, "out", "release"), inbox: filepath.Join(dir, "inbox")}
	// The test binary acts as veil under that name (testscript.Main); its
	// own copy lies where nobody cannot reach it.
	src, err := os.Open(veilPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	os.Mkdir(filepath.Dir(e.bin), 0o755)
	dst, err := os.OpenFile(e.bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	if _, err := custody.Init(e.vault, filepath.Join(dir, "custodian.age"), vault.InitOptions{Passphrase: []byte("correct horse battery staple")}); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Dir(e.release), 0o755)
	for _, d := range []string{e.vault, filepath.Dir(e.release)} {
		filepath.Walk(d, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, 65534, 65534) })
	}
	return e
}

// put writes photos into the inbox as root, folders 0755, files 0644.
func (e *nobodyEnv) put(t *testing.T, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(e.inbox, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ingest runs veil ingest as nobody and returns stdout, stderr and the exit
// status.
func (e *nobodyEnv) ingest(t *testing.T, extra ...string) (string, string, int) {
	t.Helper()
	args := append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", e.bin, "ingest", "--vault", e.vault, "--out", e.release, "--settle", "0"}, extra...)
	cmd := exec.Command(e.setpriv, append(args, e.inbox)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestOriginalsStayExit5: the veil user can read what staff drop but not
// remove it. Every photo is committed, every original stays in the inbox
// with all its metadata: each gets its own line, and veil exits 5, on this
// run and on the next, which used to say only "already ingested" and exit 0
// (issue 14, finding 1).
func TestOriginalsStayExit5(t *testing.T) {
	e := newNobodyEnv(t)
	we := &watchEnv{rng: rand.New(rand.NewPCG(7, uint64(len(t.Name()))))}
	files := map[string][]byte{}
	for i := range 3 {
		files[fmt.Sprintf("Jane Doe/before/IMG_%d.jpg", i)] = we.photo()
	}
	e.put(t, files)
	for run := range 2 {
		stdout, stderr, code := e.ingest(t)
		if code != exitLeftBehind {
			t.Fatalf("run %d: exit %d, want %d\n%s%s", run, code, exitLeftBehind, stdout, stderr)
		}
		for rel := range files {
			full := filepath.Join(e.inbox, filepath.FromSlash(rel))
			if !exists(full) {
				t.Errorf("%s was removed", rel)
			}
		}
		// Off a terminal (as here) a line names the inbox, not the file:
		// the path holds the patient's name. One line a file.
		line := `(?m)^\S+ veil: a committed file in ` + regexp.QuoteMeta(e.inbox) + ` could not be removed and is still there \(committed, but the source could not be removed\); run veil on a terminal to see which$`
		if n := len(regexp.MustCompile(line).FindAllString(stderr, -1)); n != len(files) || strings.Contains(stderr, "Jane") {
			t.Errorf("run %d: %d lines, want %d, and no name:\n%s", run, n, len(files), stderr)
		}
		if !strings.Contains(stderr, "veil: 3 files are still in the inbox that veil could not take, quarantine or remove (see above)") {
			t.Errorf("run %d: no closing line:\n%s", run, stderr)
		}
		if !strings.Contains(stdout, "; 3 still in the inbox that veil could not take, quarantine or remove (see above)") {
			t.Errorf("run %d: summary:\n%s", run, stdout)
		}
	}
	// --json: the same files as "unremoved" events, and in the summary.
	stdout, _, code := e.ingest(t, "--json")
	if code != exitLeftBehind || strings.Count(stdout, `"event":"unremoved"`) != 3 || !strings.Contains(stdout, `"unremoved":3,"stuck":0`) {
		t.Errorf("--json: exit %d\n%s", code, stdout)
	}
}

// TestUnreadableFolderExit5: ten patient folders, one of them unreadable to
// the veil user: the other nine are ingested, the unreadable one is named
// on a line of its own, and veil exits 5 (issue 14, finding 2: the walk
// stopped at it, and the run said "1 left for the next run" and exited 0).
func TestUnreadableFolderExit5(t *testing.T) {
	e := newNobodyEnv(t)
	we := &watchEnv{rng: rand.New(rand.NewPCG(7, uint64(len(t.Name()))))}
	files := map[string][]byte{}
	for i := range 10 {
		files[fmt.Sprintf("Patient %02d/before/IMG_%d.jpg", i, i)] = we.photo()
	}
	e.put(t, files)
	// The staff may remove what they drop; so may the veil user, here.
	filepath.Walk(e.inbox, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, 65534, 65534) })
	locked := filepath.Join(e.inbox, "Patient 04")
	os.Chmod(locked, 0)
	stdout, stderr, code := e.ingest(t)
	if code != exitLeftBehind {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitLeftBehind, stdout, stderr)
	}
	if !regexp.MustCompile(`^\S+ ingested 9, duplicates 0, quarantined 0, .*; 1 still in the inbox that veil could not take, quarantine or remove \(see above\)\n$`).MatchString(stdout) {
		t.Errorf("summary:\n%s", stdout)
	}
	want := regexp.MustCompile(`^\S+ veil: a file or folder in ` + regexp.QuoteMeta(e.inbox) + ` could not be read or quarantined and is still there \(folder cannot be read, the photos in it were not looked at\); run veil on a terminal to see which\n` +
		`veil: 1 file is still in the inbox that veil could not take, quarantine or remove \(see above\); fix what the line says, usually a permission \(docs/permissions.md\)\n$`)
	if !want.MatchString(stderr) || strings.Contains(stderr, "Patient") {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
}

// TestReleaseGroupNotMine: the release folder's group is what its files
// get; a veil user outside that group (and the folder not setgid) is told
// so at the start, before anything is taken, rather than leaving files the
// folder's group cannot read.
func TestReleaseGroupNotMine(t *testing.T) {
	e := newNobodyEnv(t)
	os.Mkdir(e.release, 0o770)
	os.Chown(e.release, 65534, 4242)
	e.put(t, map[string][]byte{"Jane Doe/before/a.jpg": (&watchEnv{rng: rand.New(rand.NewPCG(1, 2))}).photo()})
	_, stderr, code := e.ingest(t)
	if code != exitError || !strings.Contains(stderr, "cannot give its files its group 4242: operation not permitted (add the veil user to that group, or make the folder setgid with chmod g+s; see docs/permissions.md)") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// Made setgid, the folder gives its files its group by itself.
	os.Chmod(e.release, 0o770|os.ModeSetgid)
	if stdout, stderr, code := e.ingest(t); code != exitLeftBehind || !regexp.MustCompile(`^\S+ ingested 1,`).MatchString(stdout) {
		t.Fatalf("setgid: exit %d\n%s%s", code, stdout, stderr)
	}
	entries, _ := os.ReadDir(e.release)
	for _, en := range entries {
		fi, _ := os.Stat(filepath.Join(e.release, en.Name()))
		if g := fi.Sys().(*syscall.Stat_t).Gid; g != 4242 {
			t.Errorf("%s: group %d, want 4242", en.Name(), g)
		}
	}
}

// TestWatchLeftBehindExit5: veil watch reports a committed source it
// cannot remove on every pass, and exits 5 when stopped while the last
// pass still met it.
func TestWatchLeftBehindExit5(t *testing.T) {
	e := newNobodyEnv(t)
	e.put(t, map[string][]byte{"Jane Doe/before/a.jpg": (&watchEnv{rng: rand.New(rand.NewPCG(3, 4))}).photo()})
	cmd := exec.Command(e.setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", e.bin,
		"watch", "--vault", e.vault, "--out", e.release, "--settle", "0", "--json", e.inbox)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), `"event":"ready"`) {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitLeftBehind {
		t.Fatalf("exit %v, want %d\n%s\n%s", err, exitLeftBehind, strings.Join(lines, "\n"), stderr.String())
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, `"event":"unremoved"`) || !strings.Contains(all, `"unremoved":1`) {
		t.Errorf("events:\n%s", all)
	}
}
