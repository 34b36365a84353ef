package main

import (
	"context"
	"fmt"

	"github.com/veil-photo/veil/gallery"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/internal/ui"
)

// refreshGallery brings the gallery in site up to date with the release
// folder after a run or a pass of watch that changed it. The gallery is
// derived and can always be rebuilt with veil gallery, so a failure is a
// warning and does not change the run's exit status.
func refreshGallery(ctx context.Context, pr *ui.Printer, release, site string, s ingest.Summary) {
	if site == "" || s.Ingested == 0 && s.Tampered == 0 {
		return
	}
	st, err := gallery.Build(ctx, gallery.Options{Release: release, Site: site, Workers: 1, HEIFConvert: heifConvertPath()}, nil)
	if err != nil {
		pr.Problem("gallery", fmt.Sprintf("warning: gallery %s not updated: %v (run veil gallery --release %s -o %s)", site, err, release, site))
		return
	}
	if st.Failed > 0 {
		pr.Problem("gallery", fmt.Sprintf("warning: gallery %s: %d photos could not be rendered (run veil gallery to see which)", site, st.Failed))
	}
}
