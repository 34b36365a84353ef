package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/help"
)

// helpDir holds the help files (package help embeds them).
const helpDir = "../../internal/help/text"

// TestHelpFiles: every command takes its Long and Example help from its own
// file, and every file is used, by a command or included by one, so that a
// renamed command or a stray file is caught here rather than by a user
// reading an empty --help. Package help checks the placeholders.
func TestHelpFiles(t *testing.T) {
	used := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := helpName(c)
		used[name] = true
		long, example := help.Text(name)
		switch {
		case long == "" || example == "":
			t.Errorf("%s: %s/%s.txt is missing, has no line \"--- examples ---\", or has an empty Long or Example text", c.CommandPath(), helpDir, name)
		case c.Long != long || c.Example != example:
			t.Errorf("%s does not take its help from %s/%s.txt", c.CommandPath(), helpDir, name)
		}
		raw, _ := os.ReadFile(filepath.Join(helpDir, name+".txt"))
		for line := range strings.SplitSeq(string(raw), "\n") {
			if ref, ok := strings.CutPrefix(line, "{{"); ok {
				used[strings.TrimSuffix(ref, "}}")] = true
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
	files, err := filepath.Glob(filepath.Join(helpDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no help files in %s: %v", helpDir, err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".txt"); !used[name] {
			t.Errorf("%s belongs to no command and no command includes it", f)
		}
	}
}
