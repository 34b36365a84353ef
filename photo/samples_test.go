package photo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/veil-photo/veil/internal/testphoto"
)

// moduleDir returns the directory of a module in the module cache, as the go
// command resolves it for this module's go.mod.
func moduleDir(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", path).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", path, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		// The module may not be downloaded yet on a fresh machine.
		if out, err = exec.Command("go", "mod", "download", "-json", path).Output(); err == nil {
			json.Unmarshal(out, &m)
		}
	}
	if m.Dir == "" {
		t.Fatalf("module %s not found in the module cache", path)
	}
	return m.Dir
}

func goroot(t testing.TB) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// sample is one real test photo.
type sample struct {
	name string
	data []byte
}

var (
	samplesOnce sync.Once
	samplesList []sample
	truncated   []sample
)

// samples returns the real photos the tests run on: the camera JPEGs that
// ship with goexif (GPS, maker notes, thumbnails, orientation 1-8), the JPEG
// and PNG test images of the standard library, the WebP and PNG test images
// of golang.org/x/image, and veil's own fixtures in testdata/,
// photo/testdata/orientation, photo/testdata/gainmap and the phone motion
// photos of photo/testdata/motion.
//
// Most goexif camera samples hold only the metadata part of the original
// file (the image data was cut off to keep the module small). Those are
// returned in truncated (a truncated file must be refused) and, grafted onto
// a real image body so that they decode, in the main list: their metadata is
// exactly what the camera wrote.
func samples(t testing.TB) []sample {
	samplesOnce.Do(func() {
		gx := moduleDir(t, "github.com/rwcarlsen/goexif")
		xi := moduleDir(t, "golang.org/x/image")
		var files []string
		for _, pat := range []string{
			filepath.Join(gx, "exif", "*.jpg"),
			filepath.Join(gx, "exif", "samples", "*.jpg"),
			filepath.Join(goroot(t), "src", "image", "testdata", "*.jpeg"),
			filepath.Join(goroot(t), "src", "image", "testdata", "*.png"),
			filepath.Join(xi, "testdata", "*.webp"),
			filepath.Join(xi, "testdata", "*.png"),
			filepath.Join("..", "testdata", "photos", "*.jpg"),
			filepath.Join("..", "testdata", "photos", "*.png"),
			filepath.Join("..", "testdata", "photos", "*.webp"),
			filepath.Join("testdata", "orientation", "*.jpg"),
			filepath.Join("testdata", "gainmap", "*.jpg"),
			filepath.Join("testdata", "orientation", "*.png"),
			filepath.Join("testdata", "orientation", "*.webp"),
			filepath.Join("testdata", "motion", "*.jpg"),
			filepath.Join("testdata", "motion", "*.heic"),
		} {
			m, _ := filepath.Glob(pat)
			files = append(files, m...)
		}
		sort.Strings(files)
		body := jpegBody(t, filepath.Join(goroot(t), "src", "image", "testdata", "video-001.jpeg"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
			if strings.HasPrefix(f, gx) && bytes.HasPrefix(b, []byte{0xFF, 0xD8}) && !bytes.HasSuffix(bytes.TrimRight(b, "\x00"), []byte{0xFF, 0xD9}) {
				if meta := testphoto.Metadata(b); meta != nil {
					truncated = append(truncated, sample{name, b})
					g := append(append([]byte{0xFF, 0xD8}, meta...), body...)
					samplesList = append(samplesList, sample{name + "+body", g})
					continue
				}
			}
			samplesList = append(samplesList, sample{name, b})
		}
	})
	if len(samplesList) < 100 {
		t.Fatalf("only %d samples found", len(samplesList))
	}
	return samplesList
}

// jpegBody returns a JPEG without its SOI and metadata segments: the tables,
// frame, scans and EOI that a grafted sample needs to decode.
func jpegBody(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[2+len(testphoto.Metadata(b)):]
}

// exiftoolAllowed lists what exiftool may still report in a stripped file:
// file-system facts, image geometry, colour (an ICC profile's colour tags,
// and its text and header fields only at their neutral values), JFIF
// density, the Adobe colour transform, the Orientation tag, and the HEIF
// properties that describe how to decode and display the image. Anything
// else is a leak.
func exiftoolAllowed(key string, value any) bool {
	group, tag, _ := strings.Cut(key, ":")
	switch {
	case key == "SourceFile":
		return true
	case group == "System", group == "File" && tag != "Comment", group == "ExifTool" && tag != "Warning":
		return true
	case group == "ICC-header":
		neutral, ok := iccHeaderNeutral[tag]
		return ok && (neutral == "*" || fmt.Sprint(value) == neutral)
	case group == "ICC_Profile":
		if tag == "ProfileDescription" || tag == "ProfileCopyright" {
			return value == iccNeutral
		}
		return iccColourNames[tag]
	case group == "ICC-meas", group == "ICC-view", group == "ICC-chrm":
		// Measurement and viewing conditions, chromaticities: numbers and
		// enumerations.
		return true
	case group == "PNG" && tag == "ProfileName":
		return value == iccpName
	case group == "Adobe", group == "PNG-pHYs":
		return true
	case group == "IFD0":
		return tag == "Orientation"
	case group == "MPF0":
		// The MPF segment veil writes for a kept gain map.
		return tag == "MPFVersion" || tag == "NumberOfImages"
	case group == "MPImage1", group == "MPImage2":
		switch tag {
		case "MPImageFlags", "MPImageFormat", "MPImageType", "MPImageLength", "MPImageStart",
			"DependentImage1EntryNumber", "DependentImage2EntryNumber", "MPImage2":
			return true
		}
	case group == "XMP-hdrgm", group == "XMP-HDRGainMap", group == "XMP-apdi":
		// The gain map parameters veil keeps (gainMapProps).
		return true
	case group == "JFIF":
		return tag == "JFIFVersion" || tag == "ResolutionUnit" || tag == "XResolution" || tag == "YResolution"
	case group == "Composite":
		return tag == "ImageSize" || tag == "Megapixels"
	case group == "PNG":
		switch tag {
		case "ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter", "Interlace",
			"Gamma", "SRGBRendering", "Palette", "Transparency", "SignificantBits", "AnimationFrames", "AnimationPlays",
			"WhitePointX", "WhitePointY", "RedX", "RedY", "GreenX", "GreenY", "BlueX", "BlueY":
			return true
		}
	case group == "QuickTime":
		// HEIF and AVIF: brands, the handler type, image geometry, display
		// transforms, colour, decoder configurations and where mdat is.
		return heifExiftoolAllowed[tag]
	case group == "Meta":
		return tag == "PrimaryItemReference" || tag == "MetaImageSize"
	case group == "RIFF":
		switch tag {
		case "ImageWidth", "ImageHeight", "HorizontalScale", "VerticalScale", "VP8Version", "WebP_Flags",
			"AlphaCompression", "AlphaFiltering", "AlphaPreprocessing", "BackgroundColor", "AnimationLoopCount":
			return true
		}
	}
	return false
}

// iccHeaderNeutral gives, for each ICC header field exiftool reports, the
// only value a stripped profile may show ("*": any, the field is colour or
// structure; the profile ID is an MD5 of the rest).
var iccHeaderNeutral = map[string]string{
	"ProfileCMMType": "", "ProfileDateTime": "0000:00:00 00:00:00", "PrimaryPlatform": "Unknown ()",
	"DeviceManufacturer": "", "DeviceModel": "", "ProfileCreator": "",
	"ProfileVersion": "*", "ProfileClass": "*", "ColorSpaceData": "*", "ProfileConnectionSpace": "*",
	"ProfileFileSignature": "*", "CMMFlags": "*", "DeviceAttributes": "*", "RenderingIntent": "*",
	"ConnectionSpaceIlluminant": "*", "ProfileID": "*",
}

// iccColourNames are exiftool's names for the ICC tags sanitizeICC keeps
// (iccColourTags).
var iccColourNames = map[string]bool{
	"AToB0": true, "AToB1": true, "AToB2": true, "BToA0": true, "BToA1": true, "BToA2": true,
	"DToB0": true, "DToB1": true, "DToB2": true, "DToB3": true, "BToD0": true, "BToD1": true, "BToD2": true, "BToD3": true,
	"RedMatrixColumn": true, "GreenMatrixColumn": true, "BlueMatrixColumn": true,
	"RedTRC": true, "GreenTRC": true, "BlueTRC": true, "GrayTRC": true,
	"MediaWhitePoint": true, "MediaBlackPoint": true, "ChromaticAdaptation": true, "Luminance": true,
	"ChromaticityChannels": true, "ChromaticityColorant": true, "ChromaticityChannel1": true,
	"ChromaticityChannel2": true, "ChromaticityChannel3": true, "ChromaticityChannel4": true,
	"ColorantOrder": true, "ColorantTable": true, "ColorantTableOut": true, "Gamut": true,
	"Preview0": true, "Preview1": true, "Preview2": true, "Technology": true,
	"ColorimetricIntentImageState": true, "PerceptualRenderingIntentGamut": true,
	"SaturationRenderingIntentGamut": true, "OutputResponse": true, "CICP": true,
}

// heifExiftoolAllowed lists the tags exiftool reads from the boxes and item
// properties Strip keeps in a HEIF or AVIF file.
var heifExiftoolAllowed = map[string]bool{
	"MajorBrand": true, "MinorVersion": true, "CompatibleBrands": true, "HandlerType": true,
	"ImageSpatialExtent": true, "ImagePixelDepth": true, "PixelAspectRatio": true, "CleanAperture": true,
	"Rotation": true, "Mirroring": true, "AuxiliaryImageType": true,
	"ColorProfiles": true, "ColorPrimaries": true, "TransferCharacteristics": true, "MatrixCoefficients": true,
	"VideoFullRangeFlag": true, "ChromaSamplePosition": true, "ContentLightLevel": true,
	"MediaDataOffset": true, "MediaDataSize": true,
	// hvcC (ISO 14496-15 §8.3.3) and av1C (AV1 ISOBMFF §2.3.3)
	"HEVCConfigurationVersion": true, "GeneralProfileSpace": true, "GeneralTierFlag": true,
	"GeneralProfileIDC": true, "GenProfileCompatibilityFlags": true, "ConstraintIndicatorFlags": true,
	"GeneralLevelIDC": true, "MinSpatialSegmentationIDC": true, "ParallelismType": true,
	"ChromaFormat": true, "BitDepthLuma": true, "BitDepthChroma": true, "AverageFrameRate": true,
	"ConstantFrameRate": true, "NumTemporalLayers": true, "TemporalIDNested": true,
	"AV1ConfigurationVersion": true, "SeqProfile": true, "SeqLevelIdx0": true, "SeqTier0": true,
	"HighBitDepth": true, "TwelveBit": true, "ChromaSubsamplingX": true, "ChromaSubsamplingY": true,
	"InitialDelaySamples": true,
}

// exiftoolTIFFAllowed lists the tags exiftool reads from the IFDs of a
// stripped TIFF: the image-structure tags Strip keeps, on every page.
func exiftoolTIFFAllowed(key string) bool {
	group, tag, _ := strings.Cut(key, ":")
	if !strings.HasPrefix(group, "IFD") || group == "IFD" {
		return false
	}
	switch tag {
	case "SubfileType", "OldSubfileType", "ImageWidth", "ImageHeight", "BitsPerSample", "Compression",
		"PhotometricInterpretation", "Thresholding", "FillOrder", "StripOffsets", "Orientation",
		"SamplesPerPixel", "RowsPerStrip", "StripByteCounts", "MinSampleValue", "MaxSampleValue",
		"XResolution", "YResolution", "PlanarConfiguration", "GrayResponseUnit", "GrayResponseCurve",
		"T4Options", "T6Options", "ResolutionUnit", "PageNumber", "TransferFunction", "Predictor",
		"WhitePoint", "PrimaryChromaticities", "ColorMap", "HalftoneHints", "TileWidth", "TileLength",
		"TileOffsets", "TileByteCounts", "InkSet", "NumberofInks", "DotRange", "ExtraSamples",
		"SampleFormat", "SMinSampleValue", "SMaxSampleValue", "JPEGTables", "YCbCrCoefficients",
		"YCbCrSubSampling", "YCbCrPositioning", "ReferenceBlackWhite":
		return true
	}
	return false
}
