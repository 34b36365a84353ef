package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/veil-photo/veil/internal/ui"
)

// phiNames are the inbox path components of phiInbox: none may reach a log.
var phiNames = []string{"Mary", "Major", "Zoe", "Quux", "oddphase", "kaput", "nada", "linky", "redname", "IMG_7781"}

// phiInbox fills the inbox with files that all go to quarantine, under
// folders and names a log must not carry: an unknown phase, a path the
// layout does not match, a damaged photo, an empty file, a symbolic link,
// and a name carrying a terminal escape sequence.
func phiInbox(t *testing.T, e *watchEnv) {
	t.Helper()
	for name, data := range map[string][]byte{
		"Mary Major/oddphase/IMG_7781.jpg":      e.photo(),
		"Zoe Quux IMG_7781.jpg":                 e.photo(),
		"Mary Major/before/kaput.jpg":           {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F'},
		"Mary Major/after/nada.jpg":             {},
		"Mary Major/before/\x1b[31mredname.jpg": {0xff, 0xd8, 0xff},
	} {
		p := filepath.Join(e.inbox, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// An hour old: a photo cut short is damaged, not a copy still
		// arriving (which would wait for the next run).
		old := time.Now().Add(-time.Hour)
		os.Chtimes(p, old, old)
	}
	target := filepath.Join(e.dir, "elsewhere.jpg")
	os.WriteFile(target, e.photo(), 0o644)
	if err := os.Symlink(target, filepath.Join(e.inbox, "Mary Major", "after", "linky.jpg")); err != nil {
		t.Fatal(err)
	}
}

// checkNoPHI fails if out carries any inbox name or a raw escape character.
func checkNoPHI(t *testing.T, what, out string) {
	t.Helper()
	for _, n := range phiNames {
		if strings.Contains(out, n) {
			t.Errorf("%s names %q:\n%s", what, n, out)
		}
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Errorf("%s carries a raw escape character:\n%q", what, out)
	}
}

// runToFiles runs veil with stdout and stderr redirected to files, as cron
// and systemd do, and returns what it printed.
func runToFiles(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	o, _ := os.Create(filepath.Join(dir, "stdout"))
	e, _ := os.Create(filepath.Join(dir, "stderr"))
	cmd := exec.Command(veilPath(t), args...)
	cmd.Stdout, cmd.Stderr = o, e
	err := cmd.Run()
	o.Close()
	e.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	so, _ := os.ReadFile(o.Name())
	se, _ := os.ReadFile(e.Name())
	return string(so), string(se), code
}

// reasonTickets returns the tickets of the reason files in the quarantine.
func reasonTickets(t *testing.T, inboxDir string) map[string]bool {
	t.Helper()
	tickets := map[string]bool{}
	filepath.WalkDir(filepath.Join(inboxDir, ".quarantine"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".reason.txt") {
			b, _ := os.ReadFile(p)
			if m := regexp.MustCompile(`(?m)^Ticket: (q-[0-9a-f]+)$`).FindSubmatch(b); m != nil {
				tickets[string(m[1])] = true
			}
		}
		return nil
	})
	return tickets
}

// TestNoPHIInLogs: a run full of quarantines prints no inbox name with
// --json or to files, names each quarantined file by a ticket found in its
// reason file, and shows the paths (escaped) only on a terminal.
func TestNoPHIInLogs(t *testing.T) {
	ticketRE := regexp.MustCompile(`q-[0-9a-f]{10}`)
	t.Run("json", func(t *testing.T) {
		e := newWatchEnv(t)
		phiInbox(t, e)
		stdout, stderr, code := runToFiles(t, "ingest", "--vault", e.vault, "--out", e.release, "--settle", "0", "--json", e.inbox)
		if code != 4 {
			t.Fatalf("exit %d, want 4\n%s\n%s", code, stdout, stderr)
		}
		checkNoPHI(t, "ingest --json", stdout+stderr)
		tickets := reasonTickets(t, e.inbox)
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("not JSON: %s", line)
			}
			if ev["event"] == "quarantined" {
				n++
				if !tickets[ev["ticket"].(string)] || ev["reason"] == "" || ev["inbox"] != e.inbox {
					t.Errorf("quarantined event without a ticket of a reason file, reason or inbox: %s", line)
				}
			}
		}
		if n != 6 || len(tickets) != 6 {
			t.Errorf("%d quarantined events, %d reason files with a ticket; want 6 each:\n%s", n, len(tickets), stdout)
		}
	})
	t.Run("files", func(t *testing.T) {
		e := newWatchEnv(t)
		phiInbox(t, e)
		stdout, stderr, code := runToFiles(t, "ingest", "--vault", e.vault, "--out", e.release, "--settle", "0", e.inbox)
		if code != 4 {
			t.Fatalf("exit %d, want 4\n%s\n%s", code, stdout, stderr)
		}
		checkNoPHI(t, "ingest to files", stdout+stderr)
		tickets := reasonTickets(t, e.inbox)
		for _, tk := range ticketRE.FindAllString(stderr, -1) {
			if !tickets[tk] {
				t.Errorf("ticket %s is in no reason file", tk)
			}
			delete(tickets, tk)
		}
		if len(tickets) != 0 {
			t.Errorf("tickets not printed: %v\n%s", tickets, stderr)
		}
	})
	t.Run("fatal", func(t *testing.T) {
		// An error line naming an inbox file, as a failed read prints it.
		in := "/srv/inbox"
		err := ui.WithInboxes(fmt.Errorf("ingest: %w", &fs.PathError{Op: "read", Path: "/srv/inbox/Mary Major/before/IMG_7781.jpg", Err: syscall.EIO}), []string{in})
		var b bytes.Buffer
		reportError(&b, err, true)
		checkNoPHI(t, "a fatal error line", b.String())
		if want := "veil: ingest: read /srv/inbox/…: input/output error\n"; !strings.HasPrefix(b.String(), want) {
			t.Errorf("got %q, want it to start with %q", b.String(), want)
		}
	})
	t.Run("watch", func(t *testing.T) {
		e := newWatchEnv(t)
		phiInbox(t, e)
		w := e.startWatch(t, "--settle", "0")
		w.until(t, 10*time.Second, "ready", func(ev map[string]any) bool { return ev["event"] == "ready" })
		if code, _ := w.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, w.stderr)
		}
		out, _ := json.Marshal(w.seen)
		checkNoPHI(t, "watch --json", string(out)+w.stderr.String())
	})
	t.Run("terminal", func(t *testing.T) {
		e := newWatchEnv(t)
		phiInbox(t, e)
		cmd := exec.Command(veilPath(t), "ingest", "--vault", e.vault, "--out", e.release, "--settle", "0", e.inbox)
		ptmx, err := pty.Start(cmd)
		if err != nil {
			t.Skipf("no pty: %v", err)
		}
		var b bytes.Buffer
		io.Copy(&b, ptmx) // ends with EIO once veil exits
		cmd.Wait()
		ptmx.Close()
		out := b.String()
		if !strings.Contains(out, "Mary Major/oddphase/IMG_7781.jpg: unknown phase") {
			t.Errorf("the terminal does not show the quarantined file's path:\n%s", out)
		}
		if strings.ContainsRune(out, 0x1b) && strings.Contains(out, "\x1b[31m") {
			t.Errorf("the terminal got a raw escape sequence from a file name:\n%q", out)
		}
		if !strings.Contains(out, `\x1b[31mredname.jpg`) {
			t.Errorf("the name with an escape sequence is not shown escaped:\n%q", out)
		}
	})
}
