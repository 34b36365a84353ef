package main

import (
	"embed"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest/layout"
)

// helpFiles holds the long help of every command as plain text, so that it
// is written and reviewed as text rather than as Go string literals.
// help/NAME.txt belongs to the command "veil NAME" with spaces as dashes
// (help/quarantine-retry.txt), help/veil.txt to veil itself. It holds the
// Long text, a line "--- examples ---", then the Example text. A line
// {{NAME}} stands for help/NAME.txt, a text several commands share, and
// {{layout}} for layout.LayoutHelp, which the layout package owns.
// TestHelpFiles checks that every command has its file and no file is unused.
//
//go:embed help/*.txt
var helpFiles embed.FS

// helpExamples is the line that ends a help file's Long text.
const helpExamples = "--- examples ---"

// setHelp gives c and every command below it the Long and Example help
// of its file, so that a command's help is found by its name alone.
func setHelp(c *cobra.Command) {
	c.Long, c.Example = helpText(helpName(c))
	for _, sub := range c.Commands() {
		setHelp(sub)
	}
}

// helpName is the name of c's help file: its command path without "veil",
// with dashes for spaces, or "veil" for veil itself.
func helpName(c *cobra.Command) string {
	if name := strings.Join(strings.Fields(c.CommandPath())[1:], "-"); name != "" {
		return name
	}
	return "veil"
}

// helpText splits help/name.txt into its Long and Example texts, with the
// placeholder lines replaced. A missing file gives empty help, never a panic
// in a command that is run: TestHelpFiles is where a missing file fails.
func helpText(name string) (long, example string) {
	long, example, _ = strings.Cut(helpFile(name), "\n"+helpExamples+"\n")
	return expandHelp(long), expandHelp(example)
}

// helpFile is the text of help/name.txt without its final newline.
func helpFile(name string) string {
	b, _ := helpFiles.ReadFile("help/" + name + ".txt")
	return strings.TrimSuffix(string(b), "\n")
}

// expandHelp replaces each placeholder line {{NAME}} of s by the text it
// stands for; the shared texts are not expanded again.
func expandHelp(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		name, ok := helpPlaceholder(line)
		switch {
		case !ok:
		case name == "layout":
			lines[i] = layout.LayoutHelp
		default:
			lines[i] = helpFile(name)
		}
	}
	return strings.Join(lines, "\n")
}

// helpPlaceholder reports whether line is a placeholder {{NAME}}, and NAME.
func helpPlaceholder(line string) (name string, ok bool) {
	name, ok = strings.CutPrefix(line, "{{")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(name, "}}")
}
