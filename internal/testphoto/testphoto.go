// Package testphoto makes photo-like JPEGs for tests, benchmarks and the
// corpus generator: smooth gradients with sensor-like noise, which compress
// like real photos, carrying the metadata segments of a real one.
package testphoto

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
)

// Noise returns a w x h JPEG (quality 92, 4:2:0) without metadata.
func Noise(w, h int) ([]byte, error) {
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
		return nil, err
	}
	return b.Bytes(), nil
}

// Metadata returns the APPn and COM segments that follow a JPEG's SOI.
func Metadata(j []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(j) && j[i] == 0xFF; {
		m := j[i+1]
		l := int(binary.BigEndian.Uint16(j[i+2:]))
		if !(m >= 0xE0 && m <= 0xEF || m == 0xFE) || i+2+l > len(j) {
			break
		}
		out = append(out, j[i:i+2+l]...)
		i += 2 + l
	}
	return out
}

// Graft returns body with the metadata segments of meta in place of its
// own: a JPEG that decodes as body and carries what meta carries.
func Graft(meta, body []byte) []byte {
	out := append([]byte{0xFF, 0xD8}, Metadata(meta)...)
	return append(out, body[2+len(Metadata(body)):]...)
}

// Pixels decodes an image with the decoders the caller registered into
// 16-bit RGBA, so that two decodes compare exactly whatever colour model
// each decoder returns.
func Pixels(b []byte) (*image.NRGBA64, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out := image.NewNRGBA64(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out, nil
}
