package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/veil-photo/veil/ingest/layout"
)

// Config is a pipeline as veil ingest and veil watch are given it on the
// command line, before it is checked and compiled into Options. Its
// mistakes are reported in the words of those commands' flags.
type Config struct {
	Vault      string        // --vault: the vault folder
	Release    string        // --out: the release folder
	Gallery    string        // --gallery: a gallery kept up to date after each run; "" for none
	Layout     string        // --layout, see layout.ParseLayout
	PhaseAlias []string      // --phase-alias, see layout.ParseVocabulary
	Workers    int           // --workers
	KeepSource bool          // --keep-source
	Settle     time.Duration // --settle
	MaxSize    string        // --max-size, see ParseSize
	Exclude    []string      // --exclude, see Options.Exclude
	State      string        // --state: this host's state folder, outside the vault (the host pin); "" for none
}

// Options checks c for a run over inboxes and compiles it into Options. An
// error is the caller's mistake, a flag missing, out of range or malformed,
// or folders that overlap (an *ApartError), and names the flag at fault.
func (c Config) Options(inboxes []string) (Options, error) {
	switch {
	case c.Vault == "":
		return Options{}, errors.New("--vault is required")
	case c.Release == "":
		return Options{}, errors.New("--out RELEASE is required")
	case c.Workers < 1:
		return Options{}, errors.New("--workers must be at least 1")
	case c.Settle < 0:
		return Options{}, errors.New("--settle must not be negative")
	}
	maxSize, err := ParseSize(c.MaxSize)
	if err != nil {
		return Options{}, fmt.Errorf("--max-size: %v", err)
	}
	if c.Gallery != "" && Overlap(c.Gallery, c.Release) {
		return Options{}, fmt.Errorf("--gallery %s and --out %s overlap: the gallery would be shipped with the release, or the release deleted with the gallery; put the site beside the release folder", c.Gallery, c.Release)
	}
	for _, pat := range c.Exclude {
		if err := CheckExclude(pat); err != nil {
			return Options{}, fmt.Errorf("--exclude %q: not a pattern (%v)", pat, errors.Unwrap(err))
		}
	}
	vocab, err := layout.ParseVocabulary(c.PhaseAlias)
	if err != nil {
		return Options{}, fmt.Errorf("--phase-alias: %v", err)
	}
	lay, err := layout.ParseLayout(c.Layout, vocab)
	if err != nil {
		return Options{}, fmt.Errorf("--layout: %v", err)
	}
	if err := CheckApart(inboxes, Folder{Name: "--out", Path: c.Release}, Folder{Name: "--vault", Path: c.Vault}, Folder{Name: "--gallery", Path: c.Gallery}); err != nil {
		return Options{}, err
	}
	if c.State != "" && (Overlap(c.State, c.Vault) || Overlap(c.State, c.Release)) {
		return Options{}, fmt.Errorf("--state %s overlaps --vault or --out: the host pin must be where whoever can write those cannot reach", c.State)
	}
	pin, err := HostPinFile(c.State, c.Vault)
	if err != nil {
		return Options{}, err
	}
	return Options{Release: c.Release, Layout: lay, Workers: c.Workers, KeepSource: c.KeepSource,
		Settle: c.Settle, MaxSize: maxSize, Exclude: c.Exclude, HostPin: pin}, nil
}
