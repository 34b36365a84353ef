package gallery

import (
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// decodeHEIF decodes a HEIC or AVIF file with libheif's heif-convert. Go has
// no maintained HEVC or AV1 decoder; libheif is the reference reader of
// both, packaged by every distribution (Debian: libheif-examples), and run
// as a separate process it needs no cgo in veil. libheif applies the
// container's rotation and mirroring (irot, imir) itself, so the pixels it
// returns are already upright.
func decodeHEIF(ctx context.Context, tool, path string) (image.Image, error) {
	dir, err := os.MkdirTemp("", "veil-gallery-heif-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.jpg")
	// Quality 95: this JPEG is only an intermediate, decoded again at once.
	cmd := exec.CommandContext(ctx, tool, "-q", "95", path, out)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("heif-convert: %v: %s", err, strings.TrimSpace(string(msg)))
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, fmt.Errorf("heif-convert wrote no image: %w", err)
	}
	defer f.Close()
	m, err := jpeg.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("heif-convert output: %w", err)
	}
	return m, nil
}
