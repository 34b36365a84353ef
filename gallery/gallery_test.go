package gallery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/release"
)

// sample is a photo of the test release: a file of the repository's
// testdata, released under a subject, a phase and an interval.
type sample struct {
	file     string // under the repository root
	subject  int    // index into the fixture's subject codes
	phase    string
	interval string
}

var samples = []sample{
	{"testdata/photos/phone-rotated6.jpg", 0, "before", ""},
	{"testdata/photos/clinic.png", 0, "followup", "P6M"},
	{"testdata/photos/rose-exif.webp", 0, "after", "P2W"},
	{"photo/testdata/heif/phone-irot.heic", 1, "before", ""},
	{"testdata/photos/clinic.png", 1, "after", ""},
}

// fixture is a release folder made the way ingest lays it out.
type fixture struct {
	dir      string
	subjects []code.Code
	rows     []release.Row
}

func newFixture(t testing.TB, samples []sample) *fixture {
	t.Helper()
	fx := &fixture{dir: filepath.Join(t.TempDir(), "release")}
	if err := os.Mkdir(fx.dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		fx.subjects = append(fx.subjects, newCode(t))
	}
	for _, s := range samples {
		b, err := os.ReadFile(filepath.Join("..", s.file))
		if err != nil {
			t.Fatal(err)
		}
		fx.add(t, s, b)
	}
	fx.writeIndex(t)
	return fx
}

func newCode(t testing.TB) code.Code {
	c, err := code.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// add releases b as a new photo (a distinct photo code and, because the
// same sample may be used twice, distinct bytes: ingest never releases the
// same bytes twice).
func (fx *fixture) add(t testing.TB, s sample, b []byte) release.Row {
	t.Helper()
	rep, err := photo.Scan(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fx.rows {
		if r.SHA256 == sum(b) {
			b = append(bytes.Clone(b), 0) // a trailing byte that every decoder ignores
		}
	}
	row := release.Row{Photo: newCode(t), Subject: fx.subjects[s.subject], Phase: s.phase, Interval: s.interval,
		Format: rep.Format.String(), Width: rep.Width, Height: rep.Height, SHA256: sum(b)}
	p := filepath.Join(fx.dir, filepath.FromSlash(row.Path()))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	fx.rows = append(fx.rows, row)
	return row
}

func (fx *fixture) writeIndex(t testing.TB) {
	t.Helper()
	var buf strings.Builder
	buf.WriteString(release.Header)
	for _, r := range fx.rows {
		buf.WriteString(r.Line())
	}
	if err := os.WriteFile(filepath.Join(fx.dir, release.IndexFile), []byte(buf.String()), 0o640); err != nil {
		t.Fatal(err)
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func build(t testing.TB, opts Options) (Stats, []Event) {
	t.Helper()
	var events []Event
	st, err := Build(context.Background(), opts, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	return st, events
}

func decodeJPEG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestBuildThenIncremental(t *testing.T) {
	fx := newFixture(t, samples)
	site := filepath.Join(t.TempDir(), "site")
	opts := Options{Release: fx.dir, Site: site, Workers: 2}
	st, _ := build(t, opts)
	want := Stats{Subjects: 2, Photos: 5, Rendered: 4, Placeholders: 1}
	if st != want {
		t.Fatalf("first build: %+v, want %+v", st, want)
	}

	// The rotated phone photo (80x40, orientation 6) is upright in its
	// preview: 40 wide, 80 high.
	if b := decodeJPEG(t, filepath.Join(site, outputs(fx.rows[0].Photo)[0])).Bounds(); b.Dx() != 40 || b.Dy() != 80 {
		t.Errorf("rotated preview is %dx%d, want 40x80", b.Dx(), b.Dy())
	}
	page := readSite(t, site, fx.rows[0].Subject)
	// Clinical order: before, after P2W, followup P6M.
	order := regexp.MustCompile(`data-label="([^"]+)"`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != "before,after P2W,followup P6M" {
		t.Errorf("photo order %v", got)
	}
	for _, r := range fx.rows[:3] {
		for _, s := range []string{r.Photo.String(), "/release/" + r.Path()} {
			if !strings.Contains(page, s) {
				t.Errorf("subject page lacks %s", s)
			}
		}
	}
	heic := readSite(t, site, fx.rows[3].Subject)
	if !strings.Contains(heic, `<strong>HEIC</strong>`) || !strings.Contains(heic, "/release/"+fx.rows[3].Path()) {
		t.Errorf("HEIC placeholder missing from %s", heic)
	}

	// Nothing new: nothing rendered, no page rewritten.
	before := modTimes(t, site)
	st, events := build(t, opts)
	if st.Rendered != 0 || st.Kept != 4 || len(events) != 1 || events[0].Action != Placeholder {
		t.Fatalf("second build: %+v, %v", st, events)
	}
	if after := modTimes(t, site); !equalMaps(before, after) {
		t.Errorf("an unchanged build rewrote files: %v -> %v", before, after)
	}

	// The release grows by one photo and loses subject 1: one rendered,
	// two removed, and subject 1's page is gone.
	b, _ := os.ReadFile("../testdata/photos/phone-rotated6.jpg")
	added := fx.add(t, sample{subject: 0, phase: "intraop"}, append(b, 1))
	gone := fx.rows[3:5]
	fx.rows = append(fx.rows[:3:3], added)
	fx.writeIndex(t)
	st, events = build(t, opts)
	if st.Rendered != 1 || st.Kept != 3 || st.Removed != 1 || st.Subjects != 1 {
		t.Fatalf("grown build: %+v, %v", st, events)
	}
	if _, err := os.Stat(filepath.Join(site, pageDir, gone[0].Subject.String()+".html")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the page of a subject no longer released is still there: %v", err)
	}
	for _, r := range gone {
		for _, f := range outputs(r.Photo) {
			if _, err := os.Stat(filepath.Join(site, f)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s of a photo no longer released is still there", f)
			}
		}
	}
	if n := len(listDir(t, filepath.Join(site, imgDir))); n != 8 {
		t.Errorf("%d images, want 8 (4 photos)", n)
	}
}

func readSite(t testing.TB, site string, subject code.Code) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(site, pageDir, subject.String()+".html"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func modTimes(t testing.TB, site string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	filepath.WalkDir(site, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if info, err := d.Info(); err == nil && !d.IsDir() && d.Name() != ManifestFile {
			m[p] = info.ModTime().UnixNano()
		}
		return nil
	})
	return m
}

func equalMaps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPagesAreSelfContained checks every page for the CSP, and for what the
// CSP forbids or the offline site cannot have: inline scripts, style
// attributes, absolute URLs.
func TestPagesAreSelfContained(t *testing.T) {
	fx := newFixture(t, samples)
	site := filepath.Join(t.TempDir(), "site")
	build(t, Options{Release: fx.dir, Site: site})
	// A subject whose only photo has no decoder: placeholders, no image.
	fxHEIC := newFixture(t, samples[3:4])
	build(t, Options{Release: fxHEIC.dir, Site: filepath.Join(site, "heic")})
	inline := regexp.MustCompile(`<script[^>]*>[^<]`)
	err := filepath.WalkDir(site, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := string(b)
		if !strings.Contains(s, `<meta http-equiv="Content-Security-Policy" content="`+CSP+`">`) {
			t.Errorf("%s: no CSP meta", p)
		}
		for _, bad := range []string{"style=", "http:", "https:", "<style", `src=""`} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: holds %q", p, bad)
			}
		}
		if regexp.MustCompile(`\son[a-z]+=`).MatchString(s) || inline.MatchString(s) {
			t.Errorf("%s: inline script", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDerivedImagesCarryNoMetadata walks the segments of every derived
// JPEG: only the image's own tables and data, no APPn (Exif, XMP, ICC) and
// no comment; exiftool, when installed, agrees.
func TestDerivedImagesCarryNoMetadata(t *testing.T) {
	fx := newFixture(t, samples)
	site := filepath.Join(t.TempDir(), "site")
	build(t, Options{Release: fx.dir, Site: site})
	imgs, _ := filepath.Glob(filepath.Join(site, imgDir, "*.jpg"))
	if len(imgs) != 8 {
		t.Fatalf("%d images, want 8", len(imgs))
	}
	for _, p := range imgs {
		b, _ := os.ReadFile(p)
		for _, m := range jpegMarkers(t, b) {
			if m >= 0xe0 && m <= 0xef || m == 0xfe {
				t.Errorf("%s: marker %#x", p, m)
			}
		}
	}
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		t.Log("exiftool not installed: checked the JPEG segments only")
		return
	}
	out, err := exec.Command(exiftool, append([]string{"-a", "-G1", "-s", "-EXIF:all", "-XMP:all", "-ICC_Profile:all", "-IPTC:all", "-Comment", "-JFIF:all"}, imgs...)...).CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "[") {
			t.Errorf("exiftool found metadata: %s", line)
		}
	}
}

// jpegMarkers lists the markers before the first scan.
func jpegMarkers(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		t.Fatal("not a JPEG")
	}
	var ms []byte
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			t.Fatalf("no marker at %d", i)
		}
		m := b[i+1]
		ms = append(ms, m)
		if m == 0xda {
			break
		}
		i += 2 + (int(b[i+2])<<8 | int(b[i+3]))
	}
	return ms
}

// TestHEIFThroughHeifConvert renders a HEIC with libheif when heif-convert
// is installed (CI installs it): upright, like libheif shows it.
func TestHEIFThroughHeifConvert(t *testing.T) {
	tool, err := exec.LookPath("heif-convert")
	if err != nil {
		t.Skip("heif-convert (Debian libheif-examples) not installed: HEIC is shown as a placeholder")
	}
	fx := newFixture(t, samples[3:4])
	site := filepath.Join(t.TempDir(), "site")
	st, _ := build(t, Options{Release: fx.dir, Site: site, HEIFConvert: tool})
	if st.Rendered != 1 || st.Placeholders != 0 {
		t.Fatalf("%+v", st)
	}
	ref := filepath.Join(t.TempDir(), "ref.jpg")
	if out, err := exec.Command(tool, filepath.Join(fx.dir, fx.rows[0].Path()), ref).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := decodeJPEG(t, ref).Bounds()
	got := decodeJPEG(t, filepath.Join(site, outputs(fx.rows[0].Photo)[0])).Bounds()
	if got.Dx() != want.Dx() || got.Dy() != want.Dy() {
		t.Errorf("preview %v, libheif's image %v", got, want)
	}
	// Once decodable, the photo is no longer a placeholder: the page has
	// its images.
	if page := readSite(t, site, fx.rows[0].Subject); strings.Contains(page, "placeholder") {
		t.Error("page still shows a placeholder")
	}
}

// TestChangedFileIsNotShown: a released file whose bytes differ from
// index.csv is reported and shown as a placeholder, never rendered.
func TestChangedFileIsNotShown(t *testing.T) {
	fx := newFixture(t, samples[:1])
	p := filepath.Join(fx.dir, fx.rows[0].Path())
	b, _ := os.ReadFile(p)
	os.WriteFile(p, append(b, 'x'), 0o640)
	site := filepath.Join(t.TempDir(), "site")
	st, events := build(t, Options{Release: fx.dir, Site: site})
	if st.Failed != 1 || len(events) != 1 || !errors.Is(events[0].Err, ErrHashMismatch) {
		t.Fatalf("%+v %v", st, events)
	}
	if imgs := listDir(t, filepath.Join(site, imgDir)); len(imgs) != 0 {
		t.Errorf("images of a changed file: %v", imgs)
	}
}

func TestRefusedFolders(t *testing.T) {
	fx := newFixture(t, samples[:1])
	for _, site := range []string{fx.dir, filepath.Join(fx.dir, "site"), filepath.Dir(fx.dir)} {
		if _, err := Build(context.Background(), Options{Release: fx.dir, Site: site}, nil); !errors.Is(err, ErrSiteInRelease) {
			t.Errorf("site %s: %v, want ErrSiteInRelease", site, err)
		}
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Build(context.Background(), Options{Release: fx.dir, Site: other}, nil); !errors.Is(err, ErrNotGallery) {
		t.Errorf("a folder with other files: %v, want ErrNotGallery", err)
	}
	if _, err := os.Stat(filepath.Join(other, "notes.txt")); err != nil {
		t.Error(err)
	}
}

func TestSelection(t *testing.T) {
	fx := newFixture(t, samples)
	site := filepath.Join(t.TempDir(), "site")
	st, _ := build(t, Options{Release: fx.dir, Site: site, Subjects: fx.subjects[:1], Phases: []string{"before", "after"}})
	if st.Subjects != 1 || st.Photos != 2 {
		t.Fatalf("%+v", st)
	}
}

// TestOrient turns a 3×2 image with distinct pixels by every Exif
// orientation and checks where its top-left pixel (as stored) lands.
func TestOrient(t *testing.T) {
	m := image.NewYCbCr(image.Rect(0, 0, 3, 2), image.YCbCrSubsampleRatio444)
	for i := range m.Y {
		m.Y[i] = uint8(10 * (i + 1))
	}
	// Exif 2.32 §4.6.4 A: where stored row 0 / column 0 ends up.
	want := map[int]struct{ w, h, x, y int }{
		1: {3, 2, 0, 0}, 2: {3, 2, 2, 0}, 3: {3, 2, 2, 1}, 4: {3, 2, 0, 1},
		5: {2, 3, 0, 0}, 6: {2, 3, 1, 0}, 7: {2, 3, 1, 2}, 8: {2, 3, 0, 2},
	}
	for o, w := range want {
		got := orient(m, o)
		if got.Rect.Dx() != w.w || got.Rect.Dy() != w.h {
			t.Errorf("orientation %d: %v", o, got.Rect)
			continue
		}
		if y := got.Y[w.y*got.YStride+w.x]; y != 10 {
			t.Errorf("orientation %d: stored top-left not at (%d,%d), found %d there", o, w.x, w.y, y)
		}
	}
}

// TestInterruptedFirstBuild: a first build stopped half-way (here: before
// it starts rendering) leaves a site the next build adopts and completes.
func TestInterruptedFirstBuild(t *testing.T) {
	fx := newFixture(t, samples[:2])
	site := filepath.Join(t.TempDir(), "site")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, Options{Release: fx.dir, Site: site}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
	st, _ := build(t, Options{Release: fx.dir, Site: site})
	if st.Rendered != 2 {
		t.Fatalf("%+v", st)
	}
}
