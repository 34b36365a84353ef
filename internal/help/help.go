// Package help holds the long help of every veil command as plain text, so
// that it is written and reviewed as text rather than as Go string
// literals. text/NAME.txt belongs to the command "veil NAME" with spaces as
// dashes (text/quarantine-retry.txt), text/veil.txt to veil itself. It
// holds the Long text, a line "--- examples ---", then the Example text. A
// line {{NAME}} stands for text/NAME.txt, a text several commands share,
// and {{layout}} for layout.LayoutHelp, which the layout package owns.
package help

import (
	"embed"
	"strings"

	"github.com/veil-photo/veil/ingest/layout"
)

//go:embed text/*.txt
var files embed.FS

// examples is the line that ends a help file's Long text.
const examples = "--- examples ---"

// Text returns the Long and Example help in text/name.txt, with the
// placeholder lines replaced. A missing file gives empty help, never a
// panic in a command that is run: cmd/veil's TestHelpFiles is where a
// command without its file fails.
func Text(name string) (long, example string) {
	long, example, _ = strings.Cut(file(name), "\n"+examples+"\n")
	return expand(long), expand(example)
}

// file is the text of text/name.txt without its final newline.
func file(name string) string {
	b, _ := files.ReadFile("text/" + name + ".txt")
	return strings.TrimSuffix(string(b), "\n")
}

// expand replaces each placeholder line {{NAME}} of s by the text it
// stands for; the shared texts are not expanded again.
func expand(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		name, ok := placeholder(line)
		switch {
		case !ok:
		case name == "layout":
			lines[i] = layout.LayoutHelp
		default:
			lines[i] = file(name)
		}
	}
	return strings.Join(lines, "\n")
}

// placeholder reports whether line is a placeholder {{NAME}}, and NAME.
func placeholder(line string) (name string, ok bool) {
	name, ok = strings.CutPrefix(line, "{{")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(name, "}}")
}
