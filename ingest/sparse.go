package ingest

import "io/fs"

// A camera, a phone or a copy writes every byte of a photo; a file whose
// size is mostly holes was made to look big (truncate -s, a seek past the
// end), and taking it would fill the vault and the release folder with
// bytes staff never wrote (red team, PoC 10: 48 kB on disk became 451 MB in
// the vault). File systems that compress can store a photo in fewer blocks
// than its size, but never sixteen times fewer: photos are compressed
// already.
const (
	sparseMinSize = 4 << 20
	sparseRatio   = 16
)

// sparse says whether fi is a file of at least sparseMinSize bytes of which
// less than one in sparseRatio is stored. Some network shares report no
// blocks at all for every file: zero says nothing, and a file with nothing
// stored holds no photo header either, so it fails as a photo anyway.
func sparse(fi fs.FileInfo) bool {
	stored, ok := allocated(fi)
	return ok && stored > 0 && fi.Size() >= sparseMinSize && stored*sparseRatio < fi.Size()
}
