// Command gencorpus writes a benchmark corpus of JPEG photos that carry the
// metadata a phone or a photo workflow adds: Exif with GPS, dates, serials and
// a thumbnail, XMP, IPTC and a comment, each file with its own comment and
// GPS position so that no two files are identical.
//
//	go run ./scripts/gencorpus -n 1000 -size 800x600 -o /tmp/corpus/small
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/veil-photo/veil/internal/testphoto"
)

func main() {
	n := flag.Int("n", 100, "number of photos")
	size := flag.String("size", "800x600", "width x height")
	out := flag.String("o", "", "output folder")
	meta := flag.String("meta", "testdata/photos/phone-rotated6.jpg", "JPEG whose metadata segments every photo gets")
	flag.Parse()
	var w, h int
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || *out == "" {
		log.Fatal("usage: gencorpus -n N -size WxH -o DIR")
	}
	src, err := os.ReadFile(*meta)
	if err != nil {
		log.Fatal(err)
	}
	segs := testphoto.Metadata(src)
	noise, err := testphoto.Noise(w, h)
	if err != nil {
		log.Fatal(err)
	}
	body := noise[2+len(testphoto.Metadata(noise)):] // without SOI and JFIF
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for i := range *n {
		var b bytes.Buffer
		b.Write([]byte{0xFF, 0xD8})
		b.Write(segs)
		com := fmt.Sprintf("patient %06d, before, left profile", i)
		b.Write([]byte{0xFF, 0xFE, byte((len(com) + 2) >> 8), byte(len(com) + 2)})
		b.WriteString(com)
		b.Write(body)
		name := filepath.Join(*out, fmt.Sprintf("IMG_%05d.jpg", i))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
