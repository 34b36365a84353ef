// Command pixcmp proves a strip lossless for the formats Go decodes.
package main

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/internal/testphoto"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

func load(p string) (*image.NRGBA64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return testphoto.Pixels(b)
}

// pixcmp INDIR OUTDIR compares the decoded pixels of every JPEG, PNG, WebP
// and TIFF (its first page) under INDIR with those of its stripped copy under OUTDIR (as veil
// strip -o OUTDIR INDIR names it: OUTDIR/base(INDIR)/...). HEIC and AVIF are
// left to heif-convert (scripts/check-folder.sh). Exit status 1 if any differ.
func main() {
	if len(os.Args) == 4 && os.Args[1] == "-pair" {
		// pixcmp -pair A B: two decoded images, as heif-convert writes them.
		a, err := load(os.Args[2])
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		b, err := load(os.Args[3])
		if err != nil || a.Bounds() != b.Bounds() || !bytes.Equal(a.Pix, b.Pix) {
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pixcmp INDIR OUTDIR | pixcmp -pair A B")
		os.Exit(2)
	}
	in, out := os.Args[1], os.Args[2]
	same, diff, undec := 0, 0, 0
	filepath.Walk(in, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".heic", ".heif", ".hif", ".avif":
			return nil // Go has no decoder: check-folder.sh uses heif-convert
		}
		rel, _ := filepath.Rel(filepath.Dir(in), p)
		o := filepath.Join(out, rel)
		if _, err := os.Stat(o); err != nil {
			return nil
		}
		a, err := load(p)
		if err != nil {
			undec++
			return nil
		}
		b, err := load(o)
		if err != nil {
			fmt.Println("output does not decode:", o, err)
			diff++
			return nil
		}
		if a.Bounds() != b.Bounds() || !bytes.Equal(a.Pix, b.Pix) {
			fmt.Println("pixels differ:", p)
			diff++
			return nil
		}
		same++
		return nil
	})
	fmt.Printf("pixels identical %d, differ %d, input not decodable by Go %d\n", same, diff, undec)
	if diff > 0 {
		os.Exit(1)
	}
}
