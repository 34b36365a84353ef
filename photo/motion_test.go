package photo

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mp4Head is the start of an MP4 file as phones append it: an ftyp box
// (ISO/IEC 14496-12 §4.3) and the header of an mdat box.
var mp4Head = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x01\x08mdat")

// TestScanNamesMotionVideo checks that Scan names the video of a motion
// photo as such, under trailer, in a JPEG trailer (Google's appended MP4,
// Samsung's MotionPhoto_Data) and in a HEIF mpvd box (Samsung), and that
// other trailers keep their plain name. Strip drops all of them.
func TestScanNamesMotionVideo(t *testing.T) {
	jpg, err := os.ReadFile(filepath.Join(goroot(t), "src", "image", "testdata", "video-001.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	video := append(bytes.Clone(mp4Head), bytes.Repeat([]byte{0x5A}, 256)...)
	heic := heifFixtures(t)["phone-irot.heic"]
	mpvd := binary.BigEndian.AppendUint32(nil, uint32(8+len(video)))
	mpvd = append(append(mpvd, "mpvd"...), video...)
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"Google motion photo", "motion-photo video after end of image", cat(jpg, video)},
		{"Samsung motion photo", "motion-photo video after end of image", cat(jpg, []byte("MotionPhoto_Data"), video)},
		{"other trailer", "data after end of image", cat(jpg, []byte("MOTIONPHOTO-TRAILER-without-video"))},
		{"Samsung HEIC", "motion-photo video (mpvd box)", cat(heic, mpvd)},
	} {
		rep := scan(t, tc.file)
		var names []string
		for _, f := range rep.Findings {
			if f.Category == CatTrailer {
				names = append(names, f.Name)
			}
		}
		if len(names) != 1 || names[0] != tc.want {
			t.Errorf("%s: trailer findings %q, want [%q]", tc.name, names, tc.want)
		}
		out, _, err := strip(t, tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if bytes.Contains(out, []byte("ftyp"+"mp42")) || bytes.Contains(out, []byte("mpvd")) {
			t.Errorf("%s: the video is still in the output", tc.name)
		}
	}
}

// TestMotionVideoAcrossWrites checks that the markers are found when they
// straddle two writes, as they do at io.Copy's buffer boundaries.
func TestMotionVideoAcrossWrites(t *testing.T) {
	for _, marker := range [][]byte{mp4Head, []byte("xxMotionPhoto_Data")} {
		for cut := 1; cut < len(marker); cut++ {
			var m trailerFinder
			m.Write(cat(bytes.Repeat([]byte{1}, 40000), marker[:cut]))
			m.Write(marker[cut:])
			if !m.video {
				t.Errorf("%q cut at %d: not found", marker, cut)
			}
		}
	}
	var m trailerFinder
	m.Write([]byte(strings.Repeat("ftyp", 100))) // no box size before it
	if m.video {
		t.Error("found a video in text that only mentions ftyp")
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestMotionPhotos runs the real phone motion photos of testdata/motion
// through Scan and Strip: Scan names the video under trailer; Strip drops
// it with every marker of it (the XMP that points at it, Samsung's SEF
// trailer, the mpvd box) and the vendor segments around it (Qualcomm's
// debug APP4, Samsung's APP5 unique ID), keeps the orientation, and keeps
// the image bytes (the JPEG essence here and in TestJPEGImageBytesUnchanged,
// heif-convert's pixels for the HEIC).
func TestMotionPhotos(t *testing.T) {
	for _, tc := range []struct {
		file, trailer string
		orientation   int
		gone          []string
	}{
		{"pixel-motion-photo-shortened.jpg", "motion-photo video after end of image", 6,
			[]string{"MotionPhoto", "Container:Directory", "ftyp" + "mp42", "Pixel 4 XL"}},
		{"ss-motion-photo-shortened.jpg", "motion-photo video after end of image", 6,
			[]string{"MicroVideo", "MotionPhoto_Data", "SEFH", "SEFT", "ssuniqueid", "QTI Debug", "SM-G988U"}},
		{"sample_MP.heic", "motion-photo video (mpvd box)", 1,
			[]string{"mpvd", "MotionPhoto", "ftypisom"}},
	} {
		in, err := os.ReadFile(filepath.Join("testdata", "motion", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var trailers []string
		for _, f := range scan(t, in).Findings {
			if f.Category == CatTrailer {
				trailers = append(trailers, f.Name)
			}
		}
		if len(trailers) != 1 || trailers[0] != tc.trailer {
			t.Errorf("%s: trailer findings %q, want [%q]", tc.file, trailers, tc.trailer)
		}
		out, res, err := strip(t, in)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if res.Orientation != tc.orientation {
			t.Errorf("%s: orientation %d, want %d", tc.file, res.Orientation, tc.orientation)
		}
		for _, s := range tc.gone {
			if !bytes.Contains(in, []byte(s)) {
				t.Errorf("%s: the input has no %q: the check proves nothing", tc.file, s)
			}
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s: %q is still in the output", tc.file, s)
			}
		}
		if rep := scan(t, out); !rep.Clean() {
			t.Errorf("%s: output findings %v", tc.file, rep.Findings)
		}
		if res.Format == HEIF {
			comparePixels(t, in, out, HEIF)
		} else if !bytes.Equal(jpegEssence(t, in), jpegEssence(t, out)) {
			t.Errorf("%s: image bytes changed", tc.file)
		}
	}
}
