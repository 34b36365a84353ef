package stripcopy

import (
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/photo"
)

// Scan reports the metadata in carries, for veil scan, without changing
// it. The file is opened as a copy's source is (no symbolic links, regular
// files only); in.Err, if set, is returned as is.
func (in Input) Scan() (*photo.Report, error) {
	if in.Err != nil {
		return nil, in.Err
	}
	f, fi, err := filekind.OpenRegular(in.Path)
	if err != nil {
		return nil, filekind.Bare(err)
	}
	defer f.Close()
	return photo.Scan(f, fi.Size())
}
