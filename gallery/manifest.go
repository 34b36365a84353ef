package gallery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/veil-photo/veil/internal/code"
)

// ManifestFile is the site's record of what it holds, at the top of the
// site: which released files (by content hash) were rendered into which
// images, and the hash of each page. It lets a second run render only what
// is new and remove what left the release. It holds codes and hashes only,
// like index.csv.
const ManifestFile = "gallery.json"

// manifestVersion changes whenever the derived images would come out
// differently (sizes, filter, quality): an older site is then re-rendered.
const manifestVersion = 1

type manifest struct {
	Version int `json:"version"`
	// Photos maps the sha256 of a released file to the images made from it.
	Photos map[string]renderedEntry `json:"photos"`
	// Pages maps a page's path in the site to the sha256 of its content, so
	// that unchanged pages are not rewritten.
	Pages map[string]string `json:"pages"`
}

type renderedEntry struct {
	Photo   code.Code `json:"photo"`
	Outputs []string  `json:"outputs"` // paths in the site, preview first
}

func newManifest() *manifest {
	return &manifest{Version: manifestVersion, Photos: map[string]renderedEntry{}, Pages: map[string]string{}}
}

// ErrNotGallery is returned when the output folder holds files but no
// gallery manifest: veil removes stale files from its site, so it refuses
// to adopt a folder it did not make.
var ErrNotGallery = errors.New("the output folder is not empty and holds no " + ManifestFile + " (choose a new or empty folder)")

// loadManifest reads the site's manifest. A missing manifest in an empty or
// new folder is a new site; a manifest of another version starts afresh,
// and its files are then removed as stale.
func loadManifest(site string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(site, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		entries, derr := os.ReadDir(site)
		if derr != nil && !errors.Is(derr, fs.ErrNotExist) {
			return nil, derr
		}
		if len(entries) > 0 {
			return nil, ErrNotGallery
		}
		return newManifest(), nil
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Version != manifestVersion || m.Photos == nil || m.Pages == nil {
		return newManifest(), nil
	}
	return &m, nil
}

func (m *manifest) save(site string) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(site, ManifestFile), append(b, '\n'))
}

// writeFile writes a site file through a temporary name and a rename, so a
// browser or a web server never reads half a page or half an image. No
// fsync: everything in the site can be made again from the release, and a
// crash before the manifest is saved only means those photos are rendered
// again next time. The temporary name is unique, so two builds of one site
// at once (a watcher's and a person's) never write into the same file.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// tempPrefix starts the names of files being written; the clean-up of
// stale images leaves them to the build that writes them.
const tempPrefix = ".tmp-"
