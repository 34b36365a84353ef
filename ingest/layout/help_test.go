package layout

import (
	"regexp"
	"strings"
	"testing"
)

// Every example --help shows is a layout that matches its path.
func TestHelpExamples(t *testing.T) {
	_, ex, ok := strings.Cut(LayoutHelp, "\nExamples:\n")
	if !ok {
		t.Fatal("LayoutHelp has no examples")
	}
	cols := regexp.MustCompile(`^  (\S.*?\S)  +(\S.*)$`)
	n := 0
	for _, line := range strings.Split(ex, "\n") {
		m := cols.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("example line %q is not LAYOUT  PATH", line)
			continue
		}
		l, err := ParseLayout(m[1], nil)
		if err != nil {
			t.Errorf("example layout %q: %v", m[1], err)
			continue
		}
		if _, err := l.Match(m[2]); err != nil {
			t.Errorf("example %q does not match %q: %v", m[1], m[2], err)
		}
		n++
	}
	if !strings.Contains(LayoutHelp, IDLayout) || n < 8 {
		t.Errorf("%d examples, or the recommended layout %s is not shown", n, IDLayout)
	}
}
