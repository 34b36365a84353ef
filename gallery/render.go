package gallery

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // released PNGs
	"io"

	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/release"
	_ "golang.org/x/image/webp" // released WebPs
)

// Sizes of the derived images, on the long side. A thumbnail fills an index
// card at twice its CSS size (sharp on high-density screens); a preview fills
// a laptop screen without shipping the 12 MP original to the browser.
const (
	ThumbSize   = 320
	PreviewSize = 1600
)

// JPEG qualities of the derived images: the preview is looked at closely
// (scars, skin), the thumbnail only picks a case.
const (
	previewQuality = 85
	thumbQuality   = 80
)

// maxPixels refuses to decode an image whose declared size would take more
// memory than a worker should hold (a 200 MP image is 600 MB as YCbCr).
const maxPixels = 200 << 20

// ErrHashMismatch is returned when a released file's bytes are not the ones
// index.csv names: the release was changed after ingest, and the gallery
// must not show a photo that the audit would flag.
var ErrHashMismatch = errors.New("the file's sha256 is not the one in index.csv (run 'veil verify --release')")

// ErrNoDecoder is returned for a format whose pixels this build cannot read
// (HEIC/AVIF without heif-convert): the page shows a placeholder instead.
var ErrNoDecoder = errors.New("no decoder for this format")

// rendered is the pair of derived images of one photo, JPEG-encoded.
type rendered struct {
	preview, thumb []byte
}

// render reads one released file, checks its hash against the row, and
// returns its preview and thumbnail. Only one decoded image is alive at a
// time per call: workers bound the memory, not the release size.
func render(ctx context.Context, releaseDir string, row release.Row, heifConvert string) (rendered, error) {
	if row.Width*row.Height > maxPixels {
		return rendered{}, fmt.Errorf("%dx%d is larger than the %d MP a gallery renders", row.Width, row.Height, maxPixels>>20)
	}
	path := releaseDir + "/" + row.Path()
	f, st, err := filekind.OpenRegular(path)
	if err != nil {
		return rendered{}, filekind.Bare(err)
	}
	defer f.Close()
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), 256<<10)

	var m image.Image
	orientation := 1
	switch row.Format {
	case "jpeg", "png", "webp":
		// photo reads the orientation the strip kept (Exif, eXIf, XMP); it
		// walks the markers with ReadAt, apart from the decoder's stream.
		rep, err := photo.Scan(f, st.Size())
		if err != nil {
			return rendered{}, err
		}
		orientation = rep.Orientation
		if m, _, err = image.Decode(r); err != nil {
			return rendered{}, fmt.Errorf("decode %s: %w", row.Format, err)
		}
	case "heic", "avif":
		if heifConvert == "" {
			return rendered{}, ErrNoDecoder
		}
		if m, err = decodeHEIF(ctx, heifConvert, path); err != nil {
			return rendered{}, err
		}
	default:
		return rendered{}, ErrNoDecoder
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return rendered{}, err
	}
	if hex.EncodeToString(h.Sum(nil)) != row.SHA256 {
		return rendered{}, ErrHashMismatch
	}
	return derive(m, orientation)
}

// derive makes the preview and, from it, the thumbnail: the second
// reduction reads 2 MP instead of 12.
func derive(m image.Image, orientation int) (rendered, error) {
	b := m.Bounds()
	w, h := fitSize(b.Dx(), b.Dy(), PreviewSize)
	preview := orient(shrink(m, w, h), orientation)
	w, h = fitSize(preview.Rect.Dx(), preview.Rect.Dy(), ThumbSize)
	thumb := shrink(preview, w, h)
	var out rendered
	var err error
	if out.preview, err = encodeJPEG(preview, previewQuality); err != nil {
		return rendered{}, err
	}
	if out.thumb, err = encodeJPEG(thumb, thumbQuality); err != nil {
		return rendered{}, err
	}
	return out, nil
}

// encodeJPEG writes m as a baseline JPEG. image/jpeg writes SOI, DQT, SOF0,
// DHT, SOS and EOI only: no APPn segment, so the derived file carries no
// Exif, XMP, ICC profile or comment at all.
func encodeJPEG(m image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
