package ui

import (
	"fmt"
	"strings"
)

// OneLine keeps a message on one line: file names and library messages can
// carry newlines, which would break log parsing.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// Plural formats a count with its noun: "1 record", "2 records".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// HumanBytes is a byte count in powers of 1000, as veil's --max-size reads
// them: "512 B", "1.5 MB".
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// ShortKey abbreviates a base64 public key for display.
func ShortKey(k string) string {
	if len(k) > 12 {
		return k[:12] + "…"
	}
	return k
}
