package gallery

import (
	"image"
	"image/color"
	"image/draw"
)

// fitSize returns w×h scaled so that its long side is at most long, keeping
// the aspect ratio. Derived images are never enlarged.
func fitSize(w, h, long int) (int, int) {
	if w <= long && h <= long {
		return w, h
	}
	if w >= h {
		return long, max(1, (h*long+w/2)/w)
	}
	return max(1, (w*long+h/2)/h), long
}

// shrink returns m reduced to dw×dh as a 4:4:4 YCbCr image, by averaging the
// source pixels under each output pixel (an area filter: no aliasing however
// large the reduction). The decoders' own pixel layouts are read directly, so
// a 12 MP JPEG is touched once, plane by plane, and never converted to RGBA
// at full size: that conversion would cost more than the reduction itself.
func shrink(m image.Image, dw, dh int) *image.YCbCr {
	out := image.NewYCbCr(image.Rect(0, 0, dw, dh), image.YCbCrSubsampleRatio444)
	b := m.Bounds()
	switch s := m.(type) {
	case *image.YCbCr:
		cw, ch := chromaSize(s)
		boxPlane(s.Y[s.YOffset(b.Min.X, b.Min.Y):], s.YStride, 1, b.Dx(), b.Dy(), out.Y, dw, dh)
		co := s.COffset(b.Min.X, b.Min.Y)
		boxPlane(s.Cb[co:], s.CStride, 1, cw, ch, out.Cb, dw, dh)
		boxPlane(s.Cr[co:], s.CStride, 1, cw, ch, out.Cr, dw, dh)
		return out
	case *image.Gray:
		boxPlane(s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, 1, b.Dx(), b.Dy(), out.Y, dw, dh)
		for i := range out.Cb {
			out.Cb[i], out.Cr[i] = 128, 128
		}
		return out
	case *image.RGBA:
		return rgbaToYCbCr(boxRGBA(s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, b.Dx(), b.Dy(), dw, dh), true, out)
	case *image.NRGBA:
		return rgbaToYCbCr(boxRGBA(s.Pix[s.PixOffset(b.Min.X, b.Min.Y):], s.Stride, b.Dx(), b.Dy(), dw, dh), false, out)
	}
	// Paletted, 16-bit, CMYK and alpha-YCbCr images are rare in a release:
	// convert them once to RGBA and reduce that.
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), m, b.Min, draw.Src)
	return rgbaToYCbCr(boxRGBA(rgba.Pix, rgba.Stride, b.Dx(), b.Dy(), dw, dh), true, out)
}

// chromaSize is the size of the chroma planes of s.
func chromaSize(s *image.YCbCr) (int, int) {
	b := s.Bounds()
	w, h := b.Dx(), b.Dy()
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

func boxRGBA(pix []byte, stride, sw, sh, dw, dh int) []byte {
	dst := make([]byte, dw*dh*4)
	boxPlane(pix, stride, 4, sw, sh, dst, dw, dh)
	return dst
}

// boxPlane averages an sw×sh plane of c interleaved 8-bit channels into a
// dw×dh plane (dst, tightly packed). Each output pixel is the mean of the
// whole source pixels its area covers; it runs in two passes (rows, then
// columns) so that every source sample is read once.
func boxPlane(src []byte, stride, c, sw, sh int, dst []byte, dw, dh int) {
	x0s, x1s := spans(sw, dw)
	y0s, y1s := spans(sh, dh)
	row := make([]uint32, dw*c) // one reduced row, before division
	acc := make([]uint32, dw*c) // the sum of reduced rows for one output row
	for dy := range dh {
		clear(acc)
		for sy := y0s[dy]; sy < y1s[dy]; sy++ {
			line := src[sy*stride:]
			if c == 1 { // the planes of a JPEG: most of the work, kept simple for the compiler
				for dx := range dw {
					var sum uint32
					for _, v := range line[x0s[dx]:x1s[dx]] {
						sum += uint32(v)
					}
					row[dx] = sum
				}
				for i, v := range row {
					acc[i] += v
				}
				continue
			}
			for dx := range dw {
				x0, x1 := x0s[dx], x1s[dx]
				for k := range c {
					var sum uint32
					for sx := x0; sx < x1; sx++ {
						sum += uint32(line[sx*c+k])
					}
					row[dx*c+k] = sum
				}
			}
			for i, v := range row {
				acc[i] += v
			}
		}
		rows := uint32(y1s[dy] - y0s[dy])
		out := dst[dy*dw*c:]
		for dx := range dw {
			n := rows * uint32(x1s[dx]-x0s[dx])
			for k := range c {
				out[dx*c+k] = uint8((acc[dx*c+k] + n/2) / n)
			}
		}
	}
}

// spans splits n source pixels into d runs of whole pixels, as even as
// integers allow: run i is [lo[i], hi[i]). When d > n (a chroma plane
// subsampled more than the image is reduced) runs are one pixel each and
// repeat: nearest-neighbour enlargement.
func spans(n, d int) (lo, hi []int) {
	lo, hi = make([]int, d), make([]int, d)
	for i := range d {
		lo[i] = min(i*n/d, n-1)
		hi[i] = max((i+1)*n/d, lo[i]+1)
	}
	return lo, hi
}

// rgbaToYCbCr fills out from tightly packed RGBA pixels. JPEG has no alpha:
// transparent pixels are put on white, as a browser shows them on the page.
func rgbaToYCbCr(pix []byte, premultiplied bool, out *image.YCbCr) *image.YCbCr {
	for i := range len(pix) / 4 {
		r, g, b, a := uint32(pix[4*i]), uint32(pix[4*i+1]), uint32(pix[4*i+2]), uint32(pix[4*i+3])
		if a != 255 {
			if premultiplied {
				r, g, b = r+255-a, g+255-a, b+255-a
			} else {
				r, g, b = (r*a+255*(255-a))/255, (g*a+255*(255-a))/255, (b*a+255*(255-a))/255
			}
		}
		out.Y[i], out.Cb[i], out.Cr[i] = color.RGBToYCbCr(uint8(r), uint8(g), uint8(b))
	}
	return out
}

// orient applies an Exif orientation (1-8, Exif 2.32 §4.6.4 A) to a 4:4:4
// image: the released file keeps the orientation as a tag, the derived image
// has its pixels turned so that no viewer needs the tag.
func orient(m *image.YCbCr, o int) *image.YCbCr {
	if o < 2 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewYCbCr(image.Rect(0, 0, ow, oh), image.YCbCrSubsampleRatio444)
	for y := range h {
		for x := range w {
			var nx, ny int
			switch o {
			case 2: // mirrored horizontally
				nx, ny = w-1-x, y
			case 3: // rotated 180°
				nx, ny = w-1-x, h-1-y
			case 4: // mirrored vertically
				nx, ny = x, h-1-y
			case 5: // mirrored along the main diagonal
				nx, ny = y, x
			case 6: // rotated 90° clockwise to view
				nx, ny = h-1-y, x
			case 7: // mirrored along the anti-diagonal
				nx, ny = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to view
				nx, ny = y, w-1-x
			}
			si, di := y*m.YStride+x, ny*out.YStride+nx
			out.Y[di], out.Cb[di], out.Cr[di] = m.Y[si], m.Cb[si], m.Cr[si]
		}
	}
	return out
}
