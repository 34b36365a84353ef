package photo

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
)

// tiffNS is the XMP namespace of the TIFF properties (XMP Specification
// Part 2 §3.2), where tiff:Orientation lives.
const tiffNS = "http://ns.adobe.com/tiff/1.0/"

// xmpOrientation returns the tiff:Orientation (1-8) an XMP packet declares,
// or 0 when it declares none. Some writers (Photoshop's export, Pillow,
// exiftool on request) record the orientation only there; veil carries it
// into the minimal Exif it writes, since XMP itself is dropped whole. The
// property may be an attribute of rdf:Description or an element of its own
// (RDF/XML's two forms); the namespace, not the prefix, identifies it. A
// packet that is not well-formed XML yields what was read before the fault.
func xmpOrientation(packet []byte) int {
	if !bytes.Contains(packet, []byte("Orientation")) {
		return 0 // most packets: no need to parse
	}
	d := xml.NewDecoder(bytes.NewReader(packet))
	d.Strict = true
	inOrientation := false
	for {
		tok, err := d.Token()
		if err != nil {
			return 0
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == tiffNS && t.Name.Local == "Orientation" {
				inOrientation = true
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Space == tiffNS && a.Name.Local == "Orientation" {
					return orientationValue(a.Value)
				}
			}
		case xml.CharData:
			if inOrientation {
				return orientationValue(string(t))
			}
		case xml.EndElement:
			if inOrientation {
				return 0
			}
		}
	}
}

// orientationValue parses an XMP orientation, 0 when it is not 1-8.
func orientationValue(s string) int {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 1 || v > 8 {
		return 0
	}
	return v
}
