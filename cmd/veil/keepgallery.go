package main

import (
	"context"
	"fmt"

	"github.com/veil-photo/veil/gallery"
	"github.com/veil-photo/veil/ingest"
)

// refreshGallery brings the gallery in site up to date with the release
// folder after a run or a pass of watch that changed it. The gallery is
// derived and can always be rebuilt with veil gallery, so a failure is a
// warning and does not change the run's exit status.
func refreshGallery(ctx context.Context, pr *printer, release, site string, s ingest.Summary) {
	if site == "" || s.Ingested == 0 && s.Tampered == 0 {
		return
	}
	st, err := gallery.Build(ctx, gallery.Options{Release: release, Site: site, Workers: 1, HEIFConvert: heifConvertPath()}, nil)
	if err != nil {
		pr.problem("gallery", fmt.Sprintf("warning: gallery %s not updated: %v (run veil gallery --release %s -o %s)", site, err, release, site))
		return
	}
	if st.Failed > 0 {
		pr.problem("gallery", fmt.Sprintf("warning: gallery %s: %d photos could not be rendered (run veil gallery to see which)", site, st.Failed))
	}
}
