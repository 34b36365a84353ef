package photo

import (
	"fmt"
	"io/fs"
	"testing"
)

func TestExplain(t *testing.T) {
	damaged := &FormatError{Format: JPEG, Offset: 500, Msg: "file ends early"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{ErrEmpty, "empty file (was the copy interrupted? copy it again)"},
		{damaged, "jpeg: file ends early (at byte 500); the file is damaged or incomplete (copy it again from the camera or phone)"},
		{&UnsupportedError{Format: Unknown}, "not a JPEG, PNG, WebP, HEIC, AVIF or TIFF image (unrecognised content)"},
		// A self-check failure is veil's fault even when it carries the
		// re-parse's FormatError.
		{fmt.Errorf("%w: %w", ErrSelfCheck, damaged), "stripped output failed its self-check: jpeg: file ends early (at byte 500) (the original is untouched; please report this file to the veil developers)"},
		{fs.ErrPermission, "permission denied"},
	} {
		if got := Explain(c.err); got != c.want {
			t.Errorf("Explain(%v) =\n %q, want\n %q", c.err, got, c.want)
		}
	}
}
