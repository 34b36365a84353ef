// Command gencorpus writes a benchmark corpus of JPEG photos that carry the
// metadata a phone or a photo workflow adds: Exif with GPS, dates, serials and
// a thumbnail, XMP, IPTC and a comment, each file with its own comment and
// GPS position so that no two files are identical.
//
//	go run ./scripts/gencorpus -n 1000 -size 800x600 -o /tmp/corpus/small
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	segs := metadata(src)
	body := encode(w, h)
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

// metadata returns the APPn and COM segments at the start of a JPEG.
func metadata(b []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		l := int(binary.BigEndian.Uint16(b[i+2:]))
		if !(m >= 0xE0 && m <= 0xEF || m == 0xFE) || i+2+l > len(b) {
			break
		}
		out = append(out, b[i:i+2+l]...)
		i += 2 + l
	}
	return out
}

// encode makes a photo-like image (smooth gradients with sensor-like noise,
// which compresses like a real photo) and returns its JPEG without SOI and
// metadata.
func encode(w, h int) []byte {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8((x*255/w+y*255/h)/2) + uint8(r.IntN(24))
		}
	}
	for i := range img.Cb {
		img.Cb[i] = 128 + uint8(r.IntN(8))
		img.Cr[i] = 140 + uint8(r.IntN(8))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()[2+len(metadata(b.Bytes())):]
}
