package photo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageSequencesRefused pins the decision of issue 16.5 on libavif's
// animated AVIFs (testdata/sequence/README.md): their metadata lives in the
// movie box, which Strip does not rewrite, so Strip and Scan refuse them
// with a message that names what they are.
func TestImageSequencesRefused(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sequence", "*.avif"))
	if len(files) < 5 {
		t.Fatalf("only %d sequence samples", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ue *UnsupportedError
		_, _, err = strip(t, b)
		if !errors.As(err, &ue) || ue.Format != AVIF || !strings.Contains(err.Error(), "animated AVIF (movie box) is not supported yet") {
			t.Errorf("%s: strip: %v", filepath.Base(f), err)
		}
		if _, err := Scan(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: scan: %v", filepath.Base(f), err)
		}
	}
}
