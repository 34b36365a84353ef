package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestIsTicket(t *testing.T) {
	if !IsTicket(newTicket()) {
		t.Error("a new ticket is not a ticket")
	}
	for _, s := range []string{"q-0123456789", "q-abcdef0123"} {
		if !IsTicket(s) {
			t.Errorf("%q is a ticket", s)
		}
	}
	for _, s := range []string{"q-012345678", "q-0123456789a", "q-ABCDEF0123", "x-0123456789", "inbox/q-0123456789", ""} {
		if IsTicket(s) {
			t.Errorf("%q is not a ticket", s)
		}
	}
}

func TestQuarantineInbox(t *testing.T) {
	for _, tc := range []struct {
		path, inbox string
		ok          bool
	}{
		{"inbox/.quarantine/Ann/before/a.png", "inbox", true},
		{"/srv/inbox/.quarantine", "/srv/inbox", true},
		{".quarantine/Ann", ".", true},
		{"/.quarantine/a.png", "/", true},
		{"a/b/../inbox/.quarantine/x", "a/inbox", true},
		{"inbox", "", false},
		{"inbox/.quarantined/a.png", "", false},
	} {
		in, ok := QuarantineInbox(filepath.FromSlash(tc.path))
		if in != filepath.FromSlash(tc.inbox) || ok != tc.ok {
			t.Errorf("QuarantineInbox(%q) = %q, %v; want %q, %v", tc.path, in, ok, tc.inbox, tc.ok)
		}
	}
}

func TestCheckInbox(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "file", []byte("x"))
	if err := CheckInbox(dir); err != nil {
		t.Errorf("a folder: %v", err)
	}
	if err := CheckInbox(filepath.Join(dir, "nothere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing inbox: %v, want fs.ErrNotExist", err)
	}
	if err := CheckInbox(filepath.Join(dir, "file")); err == nil {
		t.Error("a file is not an inbox")
	}
}

func TestParseRetry(t *testing.T) {
	r, err := ParseRetry([]string{"in1", "q-0123456789", filepath.Join("in2", ".quarantine", "Ann"), "in1", filepath.Join("in2", ".quarantine", "Bob")})
	if err != nil {
		t.Fatal(err)
	}
	ann, _ := filepath.Abs(filepath.Join("in2", ".quarantine", "Ann"))
	if !slices.Equal(r.Inboxes, []string{"in1", "in2"}) || !slices.Equal(r.Tickets, []string{"q-0123456789"}) || len(r.Paths) != 2 || r.Paths[0] != ann {
		t.Errorf("ParseRetry = %+v", r)
	}
	if r, _ := ParseRetry([]string{"q-0123456789"}); len(r.Inboxes) != 0 {
		t.Errorf("a ticket alone names inboxes %q", r.Inboxes)
	}

	q := func(ticket, path string) QuarantinedFile {
		return QuarantinedFile{Ticket: ticket, Path: filepath.FromSlash(path)}
	}
	all := RetryRequest{Inboxes: []string{"in2"}}
	for _, tc := range []struct {
		r    RetryRequest
		q    QuarantinedFile
		want bool
	}{
		{all, q("", "in2/.quarantine/Cy/a.png"), true},
		{r, q("q-0123456789", "in1/.quarantine/x.png"), true},
		{r, q("q-9999999999", "in1/.quarantine/x.png"), false},
		{r, q("", "in2/.quarantine/Ann/before/a.png"), true},
		{r, q("", "in2/.quarantine/Ann"), true},
		{r, q("", "in2/.quarantine/Anna/a.png"), false}, // a prefix of the name is not the folder
	} {
		if got := tc.r.Selects(tc.q); got != tc.want {
			t.Errorf("%+v selects %+v: %v, want %v", tc.r, tc.q, got, tc.want)
		}
	}
}

func TestRetryAll(t *testing.T) {
	in := filepath.Join(t.TempDir(), "inbox")
	quarantine := func(rel, ticket string) {
		p := filepath.Join(".quarantine", filepath.FromSlash(rel))
		put(t, in, ".quarantine/"+rel, []byte(rel))
		r, err := os.OpenRoot(in)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := writeReason(r, p+ReasonSuffix, "phase", errors.New("unknown phase"), ticket, rel); err != nil {
			t.Fatal(err)
		}
	}
	quarantine("Ann/later/a.png", "q-000000000a")
	quarantine("Bob/later/b.png", "q-000000000b")
	quarantine("Cy/later/c.png", "q-000000000c")
	put(t, in, "Cy/later/c.png", []byte("copied again")) // c cannot go back

	var got []string
	missing, err := RetryAll(RetryRequest{Inboxes: []string{in}, Tickets: []string{"q-000000000a", "q-000000000c", "q-0000000000"}},
		func(q QuarantinedFile, dst string, err error) {
			got = append(got, fmt.Sprintf("%s %s %v", q.Ticket, filepath.ToSlash(dst), errors.Is(err, fs.ErrExist)))
		})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"q-000000000a " + filepath.ToSlash(filepath.Join(in, "Ann/later/a.png")) + " false", "q-000000000c  true"}
	if !slices.Equal(got, want) || !slices.Equal(missing, []string{"q-0000000000"}) {
		t.Errorf("retried %q, missing %q; want %q, [q-0000000000]", got, missing, want)
	}
	if !exists(filepath.Join(in, ".quarantine", "Bob", "later", "b.png")) {
		t.Error("a file not asked for was retried")
	}
	if _, err := RetryAll(RetryRequest{Inboxes: []string{in, filepath.Join(in, "nothere")}}, func(QuarantinedFile, string, error) {}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an inbox that is not there: %v", err)
	}
}

func TestRetryProblem(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "retry", Path: "/inbox/Jane Doe/a.png", Err: fs.ErrExist}, "a file is already at its old place in the inbox"},
		{fmt.Errorf("x: %w", ErrRetryTarget), "its reason file names no place in the inbox"},
		{os.ErrPermission, "permission denied"},
		{errors.New("/inbox/Jane Doe/a.png: disk on fire"), "it could not be moved"},
	} {
		if got := RetryProblem(tc.err); got != tc.want {
			t.Errorf("RetryProblem(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
