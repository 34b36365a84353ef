package help

import (
	"io/fs"
	"strings"
	"testing"
)

// TestPlaceholders: every placeholder names a text that exists, and no
// help shows a placeholder once expanded (a shared text must not hold
// placeholders itself, as it is not expanded again).
func TestPlaceholders(t *testing.T) {
	names, err := fs.Glob(files, "text/*.txt")
	if err != nil || len(names) == 0 {
		t.Fatalf("no help files: %v", err)
	}
	for _, f := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "text/"), ".txt")
		for line := range strings.SplitSeq(file(name), "\n") {
			if ref, ok := placeholder(line); ok && ref != "layout" && file(ref) == "" {
				t.Errorf("text/%s.txt: %s stands for text/%s.txt, which is missing or empty", name, line, ref)
			}
		}
		long, example := Text(name)
		for line := range strings.SplitSeq(long+"\n"+example, "\n") {
			if _, ok := placeholder(line); ok {
				t.Errorf("text/%s.txt shows the placeholder %s: a text it stands for holds placeholders itself", name, line)
			}
		}
	}
}
