package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/vault"
)

// TestExitLocked: a vault whose lock another process holds is exit 11, the
// one scripts can retry on.
func TestExitLocked(t *testing.T) {
	e := newWatchEnv(t)
	lock, err := vault.AcquireLock(context.Background(), e.vault, "veil test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	out, err := exec.Command(veilPath(t), "ingest", "--vault", e.vault, "--out", e.release, "--wait", "0", e.inbox).CombinedOutput()
	if code := exitCodeOf(t, err); code != exitLocked {
		t.Errorf("exit %d, want %d\n%s", code, exitLocked, out)
	}
}

// exitCodeOf is the exit status of a finished command.
func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

// TestHelpComplete: every command's --help has examples and ends with the
// exit status table, which README repeats word for word.
func TestHelpComplete(t *testing.T) {
	root := newRootCommand()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || strings.HasPrefix(c.CommandPath(), "veil completion ") {
			return
		}
		if c.Example == "" && c.Name() != "completion" {
			t.Errorf("%s --help has no examples", c.CommandPath())
		}
		var b strings.Builder
		c.SetOut(&b)
		c.Help()
		if !strings.HasSuffix(strings.TrimSpace(b.String()), exitTable) {
			t.Errorf("%s --help does not end with the exit status table:\n%s", c.CommandPath(), b.String())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), exitTable) {
		t.Errorf("README.md does not hold the exit status table of --help:\n%s", exitTable)
	}
}

// TestManPages: veil man writes a page per command, each a man page.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command(veilPath(t), "man", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("veil man: %v\n%s", err, out)
	}
	for _, name := range []string{"veil.1", "veil-ingest.1", "veil-watch.1", "veil-config.1", "veil-init.1", "veil-version.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.HasPrefix(string(b), ".nh\n.TH \"VEIL\" \"1\"") || !strings.Contains(string(b), ".SH EXAMPLE") {
			t.Errorf("%s is not a man page with examples:\n%.300s", name, b)
		}
	}
}
