package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/release"
)

// TestGalleryCarriesNoPHI ingests the sample inbox (patients "Jane Doe" and
// "John Roe", photos with capture dates), builds the gallery of the release
// with the real binary, and scans every byte of the site (HTML, CSS, JS,
// images, manifest) for the names, the inbox paths and file names, and the
// photos' dates in the forms they are written. None may be there.
func TestGalleryCarriesNoPHI(t *testing.T) {
	veil := veilPath(t)
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.CopyFS(inbox, os.DirFS(filepath.Join("..", "..", "testdata", "inbox"))); err != nil {
		t.Fatal(err)
	}
	needles := phiPatterns(phiOf(t, inbox))
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(veil, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("veil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	os.WriteFile(filepath.Join(dir, "pass.txt"), []byte("correct horse battery staple\n"), 0o600)
	run("init", "--vault", "vault", "--custodian-out", "custodian.age", "--passphrase-file", "pass.txt")
	run("ingest", "--vault", "vault", "--out", "release", "--settle", "0", "--keep-source", "inbox")
	addIntervalColumn(t, filepath.Join(dir, "release", release.IndexFile))
	out := run("gallery", "--release", "release", "-o", "site", "--json")
	if !bytes.Contains(out, []byte(`"event":"summary"`)) || !bytes.Contains(out, []byte(`"photos":4`)) {
		t.Fatalf("gallery output: %s", out)
	}
	scanned := 0
	err := filepath.WalkDir(filepath.Join(dir, "site"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scanned++
		for _, n := range needles {
			if m := n.Find(b); m != nil {
				t.Errorf("%s holds %q", p, m)
			}
		}
		if strings.HasSuffix(p, ".jpg") {
			checkNoImageMetadata(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 4+8 { // index, a page per subject, css, js, manifest; two images per photo
		t.Fatalf("scanned only %d files", scanned)
	}
	for _, n := range needles {
		if m := n.Find(out); m != nil {
			t.Errorf("gallery's output holds %q", m)
		}
	}
}

// phiOf lists what identifies the patients of the inbox: folder and file
// names, the inbox's own path, and every date the photos carry (read by
// photo's scan, and by exiftool when installed), in the forms a page could
// show them.
func phiOf(t *testing.T, inbox string) []string {
	t.Helper()
	needles := []string{inbox, "inbox/"}
	var files []string
	filepath.WalkDir(inbox, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == inbox {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "before" || name == "after") {
			return nil // phase words: the site shows them, they name no one
		}
		needles = append(needles, name, strings.TrimSuffix(name, filepath.Ext(name)))
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	for _, who := range []string{"Jane Doe", "John Roe"} {
		needles = append(needles, strings.Fields(who)...)
	}
	var dates []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := photo.Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, fd := range rep.Findings {
			if fd.Category == photo.CatDate {
				dates = append(dates, fd.Value)
			}
		}
	}
	if exiftool, err := exec.LookPath("exiftool"); err == nil {
		out, err := exec.Command(exiftool, append([]string{"-s3", "-a", "-EXIF:AllDates", "-XMP:all", "-Time:DateTimeOriginal", "-Time:CreateDate", "-Time:ModifyDate"}, files...)...).Output()
		if err != nil && len(out) == 0 {
			t.Fatal(err)
		}
		dates = append(dates, strings.Split(string(out), "\n")...)
	} else {
		t.Log("exiftool not installed: dates from veil's own scan only")
	}
	day := regexp.MustCompile(`((?:19|20)\d\d)[:-](\d\d)[:-](\d\d)`)
	found := 0
	for _, d := range dates {
		for _, m := range day.FindAllStringSubmatch(d, -1) {
			found++
			needles = append(needles, m[1]+":"+m[2]+":"+m[3], m[1]+"-"+m[2]+"-"+m[3], m[1]+m[2]+m[3], m[2]+"/"+m[3]+"/"+m[1])
		}
	}
	if found == 0 {
		t.Fatal("the sample inbox carries no dates: the scan for them would prove nothing")
	}
	return needles
}

// phiPatterns matches each needle regardless of case, as a whole word when
// it starts and ends with a letter or digit ("Doe", not "does").
func phiPatterns(needles []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	word := regexp.MustCompile(`^\w.*\w$`)
	for _, n := range needles {
		q := regexp.QuoteMeta(n)
		if word.MatchString(n) {
			q = `\b` + q + `\b`
		}
		out = append(out, regexp.MustCompile(`(?i)`+q))
	}
	return out
}

// addIntervalColumn brings an index.csv written without the interval
// column (ingest before it moved to package release) to the current
// header; it changes nothing once ingest writes release.Header.
func addIntervalColumn(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const old = "photo,subject,phase,format,width,height,sha256\n"
	if !bytes.HasPrefix(b, []byte(old)) {
		return
	}
	lines := strings.SplitAfter(strings.TrimPrefix(string(b), old), "\n")
	out := release.Header
	for _, l := range lines {
		if f := strings.SplitN(l, ",", 4); len(f) == 4 {
			out += f[0] + "," + f[1] + "," + f[2] + ",," + f[3]
		}
	}
	os.WriteFile(path, []byte(out), 0o640)
}

// checkNoImageMetadata asks exiftool, when installed, what a derived image
// carries: only file structure (File, System, Composite, ExifTool groups),
// never Exif, XMP, ICC, IPTC, JFIF comments or any other tag group.
func checkNoImageMetadata(t *testing.T, path string) {
	t.Helper()
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		return
	}
	out, err := exec.Command(exiftool, "-a", "-G0", "-s", path).Output()
	if err != nil {
		t.Fatalf("exiftool %s: %v", path, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		group := strings.Trim(strings.Fields(line)[0], "[]")
		switch group {
		case "ExifTool", "File", "System", "Composite":
		default:
			t.Errorf("%s: exiftool found %s", path, line)
		}
	}
}
