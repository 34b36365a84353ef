package main

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpFiles: every command takes its Long and Example help from its own
// file in help/, every placeholder names a text that exists, and every file
// in help/ is used, so that a renamed command or a stray file is caught here
// rather than by a user reading an empty --help.
func TestHelpFiles(t *testing.T) {
	used := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		name := helpName(c)
		used[name] = true
		raw := helpFile(name)
		long, example := helpText(name)
		switch {
		case !strings.Contains(raw, "\n"+helpExamples+"\n"):
			t.Errorf("%s: help/%s.txt is missing or has no line %q", c.CommandPath(), name, helpExamples)
		case long == "" || example == "":
			t.Errorf("%s: help/%s.txt has an empty Long or Example text", c.CommandPath(), name)
		case c.Long != long || c.Example != example:
			t.Errorf("%s does not take its help from help/%s.txt", c.CommandPath(), name)
		}
		for line := range strings.SplitSeq(c.Long+"\n"+c.Example, "\n") {
			if _, ok := helpPlaceholder(line); ok {
				t.Errorf("%s --help shows the placeholder %s: a text it stands for holds placeholders itself", c.CommandPath(), line)
			}
		}
		for line := range strings.SplitSeq(raw, "\n") {
			ref, ok := helpPlaceholder(line)
			if !ok || ref == "layout" {
				continue
			}
			used[ref] = true
			if helpFile(ref) == "" {
				t.Errorf("help/%s.txt: %s stands for help/%s.txt, which is missing or empty", name, line, ref)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
	files, err := fs.Glob(helpFiles, "help/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(strings.TrimPrefix(f, "help/"), ".txt"); !used[name] {
			t.Errorf("%s belongs to no command and no command includes it", f)
		}
	}
}
