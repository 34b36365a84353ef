package photo

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"io"
	"sync"
)

// Result describes a stripped photo.
type Result struct {
	Format        Format
	Width, Height int      // as stored, before orientation is applied
	Orientation   int      // Exif orientation 1-8 kept in the output (1 when none); for HEIF, irot and imir's equivalent
	Dropped       []string // what was removed, by kind, in file order
	Extraneous    int64    // junk bytes between JPEG segments, skipped as decoders do
	GainMap       bool     // a JPEG's HDR gain map was kept, made clean
	BytesIn       int64
	BytesOut      int64
}

// Strip writes to w a copy of the photo in r (size bytes long) that keeps the
// image data byte for byte and drops every piece of metadata outside the
// allowlist of SPEC: for JPEG, the scan data, tables, JFIF, ICC profile and
// Adobe segments; for PNG, the critical, colour and animation chunks; for
// WebP, the image, alpha, animation and ICC chunks; for HEIF and AVIF, the
// image items (primary, grid tiles, alpha, depth and gain maps) with their
// properties, without Exif, XMP and thumbnail items, whose bytes leave the
// file too; for TIFF, every page with only its image-structure tags and its
// strips or tiles. A rotated JPEG, PNG or WebP keeps its Orientation in a new
// minimal Exif block that holds nothing else; HEIF keeps its irot and imir
// properties, TIFF its Orientation tag. An ICC profile, in every container,
// keeps its colour tags byte for byte and loses its text and identifying
// header fields (sanitizeICC); PNG's profile name becomes "ICC profile".
//
// Strip re-parses its own output — read back from w when w is a file, else
// concurrently as it is written; if the output does not
// parse or still holds something that must be dropped, the error matches
// ErrSelfCheck. On any error, what was written to w must be discarded.
//
// Memory use does not grow with the file: at most one JPEG segment, PNG
// metadata chunk or HEIF meta box is held at a time, and an ICC profile
// (a few kilobytes; at most 16 MiB, what a JPEG can carry).
func Strip(w io.Writer, r io.ReaderAt, size int64) (*Result, error) {
	f, err := sniffAt(r, size)
	if err != nil {
		return nil, err
	}
	res := &Result{Format: f, Orientation: 1, BytesIn: size}
	pf := &proof{}
	if rw, ok := w.(readWriteSeeker); ok {
		err = stripToFile(rw, r, size, res, pf)
	} else {
		err = stripToStream(w, r, size, res, pf)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// proof is what a stripper learnt from the input that the self-check must
// find again in the output. For HEIF, whose pixels Go cannot decode, it is
// the digest of every kept item's bytes: the proof that they were copied
// unchanged. The stripper fills it before it writes its first byte.
type proof struct {
	tiff    [][sha256.Size]byte // TIFF: each page's strips or tiles
	items   map[uint32][sha256.Size]byte
	primary uint32
}

// readWriteSeeker is what an output file offers: the self-check can read
// back what was written instead of watching it go past.
type readWriteSeeker interface {
	io.Writer
	io.ReaderAt
	io.Seeker
}

// stripToFile writes the stripped photo to a file, then re-parses exactly
// what the file now holds. No second goroutine is needed, which matters on
// batches of small photos.
func stripToFile(w readWriteSeeker, r io.ReaderAt, size int64, res *Result, pf *proof) error {
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	cw := &countWriter{w: w}
	if err := stripWith(cw, r, size, res, pf); err != nil {
		return err
	}
	res.BytesOut = cw.n
	if err := check(res.Format, io.NewSectionReader(w, start, cw.n), pf); err != nil {
		return &selfCheckError{err: err}
	}
	return nil
}

// stripToStream writes the stripped photo to w while a second goroutine
// re-parses the same bytes as they pass through a pipe. The checker reads pf
// only after the last byte has come through the pipe, which the stripper
// wrote after filling pf.
func stripToStream(w io.Writer, r io.ReaderAt, size int64, res *Result, pf *proof) error {
	pr, pw := io.Pipe()
	checked := make(chan error, 1)
	go func() {
		err := check(res.Format, pr, pf)
		if err != nil {
			err = &selfCheckError{err: err}
		}
		pr.CloseWithError(err)
		checked <- err
	}()
	cw := &countWriter{w: w}
	err := stripWith(io.MultiWriter(cw, pw), r, size, res, pf)
	if err != nil {
		// If the self-check failed first, err is its error, handed back
		// through the pipe; otherwise the checker stops on the closed pipe.
		pw.CloseWithError(err)
		<-checked
		return err
	}
	pw.Close()
	if err := <-checked; err != nil {
		return err
	}
	res.BytesOut = cw.n
	return nil
}

// stripWith runs the container's stripper through a pooled write buffer.
func stripWith(w io.Writer, r io.ReaderAt, size int64, res *Result, pf *proof) error {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		writerPool.Put(bw)
	}()
	var err error
	in := io.NewSectionReader(r, 0, size)
	switch res.Format {
	case JPEG:
		err = stripJPEGFile(bw, r, size, res)
	case PNG:
		err = stripPNG(bw, in, res)
	case WebP:
		err = stripWebP(bw, r, size, res)
	case HEIF, AVIF:
		err = stripHEIF(bw, r, size, res, pf)
	case TIFF:
		err = stripTIFF(bw, r, size, res, pf)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writerPool holds the output buffers. They are large so that the stripper
// and the self-check hand data over a few times per photo, not hundreds.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<20) }}

// readerPool holds the read buffers of the container walkers: large, so a
// 12 MP photo takes a few dozen reads rather than hundreds.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

func getReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}

// check re-parses a stripped stream of format f.
func check(f Format, r io.Reader, pf *proof) error {
	switch f {
	case JPEG:
		return checkJPEG(r)
	case PNG:
		return checkPNG(r)
	case WebP:
		return checkWebP(r)
	case HEIF, AVIF:
		return checkHEIF(f, r, pf)
	case TIFF:
		return checkTIFF(r, pf)
	}
	return &UnsupportedError{Format: f}
}

// sniffAt reads the head of r and recognises its format.
func sniffAt(r io.ReaderAt, size int64) (Format, error) {
	head := make([]byte, min(size, SniffLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return Unknown, err
	}
	return Sniff(head)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
