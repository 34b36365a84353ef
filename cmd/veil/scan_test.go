package main

import (
	"strings"
	"testing"
)

// TestScanHEICDisplay: an iPhone-style HEIC stored landscape with irot 270
// (and an Exif item saying 6) displays portrait; scan says so, and says what
// a reader that follows the Exif item instead would show (issue 16, 4).
func TestScanHEICDisplay(t *testing.T) {
	out, errOut, code := veil(t, "scan", "../../photo/testdata/heif/phone-irot270-exif6.heic")
	if code != exitQuarantined && code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	want := "heic 256x192 stored, displays 192x256, orientation 6 (from irot/imir), Exif orientation 6 (what a reader that ignores irot/imir shows), "
	if !strings.Contains(out, want) {
		t.Errorf("scan output lacks %q:\n%s", want, out)
	}
	out, _, _ = veil(t, "scan", "--json", "../../photo/testdata/heif/phone-irot270-exif6.heic")
	if !strings.Contains(out, `"display_width":192,"display_height":256,"exif_orientation":6`) {
		t.Errorf("scan --json:\n%s", out)
	}
}
