package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/release"
)

// Version is the record format version this package writes and accepts.
const Version = 1

// MaxRecordSize bounds one record line (without its newline). Sealed detail
// is small; a longer line is damage, not data.
const MaxRecordSize = 64 << 10

// Kind names a record type.
type Kind string

// The record types of the log (SPEC: Manifest).
const (
	KindIngest     Kind = "ingest"
	KindDuplicate  Kind = "duplicate"
	KindQuarantine Kind = "quarantine"
	KindAccess     Kind = "access"
	KindConfig     Kind = "config"
)

// Phases are the closed vocabulary of photo phases (SPEC: The inbox).
var Phases = []string{"before", "after", "intraop", "followup"}

// Access actions.
const (
	ActionReveal  = "reveal"
	ActionRestore = "restore"
	// ActionFind is a custodian's search by patient name or ID. Its codes
	// are the subjects found, and may be none: a search that found nothing
	// still asked about a person, and auditors see that too.
	ActionFind = "find"
)

// Record is one entry of the log: *Ingest, *Duplicate, *Quarantine, *Access
// or *Config.
type Record interface {
	Kind() Kind
	check() error
	normalize() Record
}

// Ingest records a photo that was stored in the vault and released.
type Ingest struct {
	Photo    string    `json:"photo"`              // photo code, UUIDv4
	Subject  string    `json:"subject"`            // subject (patient) code, UUIDv4
	Phase    string    `json:"phase"`              // one of Phases
	Interval string    `json:"interval,omitempty"` // ISO 8601 duration after the procedure (P2W, P6M), if the inbox said
	Format   string    `json:"format"`             // "jpeg", "png", "webp"
	Released Released  `json:"released"`
	Blob     BlobInfo  `json:"blob"`
	Time     time.Time `json:"time"`   // UTC, whole seconds
	Sealed   string    `json:"sealed"` // Detail of the original, see Seal
}

// Released describes the stripped file in the release folder.
type Released struct {
	Path   string `json:"path"`   // relative to the release folder: <subject>/<photo>.<ext>
	SHA256 string `json:"sha256"` // hex
	Size   int64  `json:"size"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// BlobInfo names the encrypted original in the vault.
type BlobInfo struct {
	SHA256 string `json:"sha256"` // hex SHA-256 of the ciphertext: the blob's name
	Size   int64  `json:"size"`   // ciphertext size
}

// Duplicate records bytes that were already in the vault under another photo.
type Duplicate struct {
	Of     string    `json:"of"` // the photo code whose bytes these are
	Time   time.Time `json:"time"`
	Sealed string    `json:"sealed"`
}

// Quarantine records a file that was set aside, with a reason category.
type Quarantine struct {
	Reason string    `json:"reason"` // category: lower-case token such as "phase" or "format"
	Time   time.Time `json:"time"`
	Sealed string    `json:"sealed"` // Detail, with Message saying what exactly went wrong
}

// Access records a custodian reversing codes. The custodian signs it with
// the ed25519 key named in Custodian; see SignAccess.
type Access struct {
	Action    string    `json:"action"` // ActionReveal or ActionRestore
	Codes     []string  `json:"codes"`
	Reason    string    `json:"reason"`
	Time      time.Time `json:"time"`
	At        *Position `json:"at,omitempty"` // the log it extends; absent in records of veil before position binding
	Custodian string    `json:"custodian"`    // base64 ed25519 public key
	Sig       string    `json:"sig"`          // base64 ed25519 signature, see SignAccess
}

// Kind returns KindIngest.
func (*Ingest) Kind() Kind { return KindIngest }

// Kind returns KindDuplicate.
func (*Duplicate) Kind() Kind { return KindDuplicate }

// Kind returns KindQuarantine.
func (*Quarantine) Kind() Kind { return KindQuarantine }

// Kind returns KindAccess.
func (*Access) Kind() Kind { return KindAccess }

// The wire forms put the version and type first; the record's own fields
// follow in declaration order, which makes encoding/json's output canonical.
type header struct {
	V    int  `json:"v"`
	Type Kind `json:"type"`
}

type wireIngest struct {
	header
	*Ingest
}
type wireDuplicate struct {
	header
	*Duplicate
}
type wireQuarantine struct {
	header
	*Quarantine
}
type wireAccess struct {
	header
	*Access
}

// SchemaError says why a line is not a valid record.
type SchemaError struct {
	Field string // JSON field at fault, or "" for the line as a whole
	Err   error
}

func (e *SchemaError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

func (e *SchemaError) Unwrap() error { return e.Err }

func schemaErr(field, format string, args ...any) error {
	return &SchemaError{Field: field, Err: fmt.Errorf(format, args...)}
}

// errNotCanonical is returned for a line that decodes but is not the exact
// bytes Marshal would write: reordered keys, spacing, duplicate keys, another
// time zone. Accepting those would let one record have many leaf hashes.
var errNotCanonical = errors.New("not in canonical form")

// Marshal checks r and returns its canonical line, without a newline.
func Marshal(r Record) ([]byte, error) {
	if r == nil {
		return nil, schemaErr("", "nil record")
	}
	r = r.normalize()
	if err := r.check(); err != nil {
		return nil, err
	}
	return marshalWire(r)
}

func marshalWire(r Record) ([]byte, error) {
	h := header{V: Version, Type: r.Kind()}
	var w any
	switch r := r.(type) {
	case *Ingest:
		w = wireIngest{h, r}
	case *Duplicate:
		w = wireDuplicate{h, r}
	case *Quarantine:
		w = wireQuarantine{h, r}
	case *Access:
		w = wireAccess{h, r}
	case *Config:
		w = wireConfig{h, r}
	default:
		return nil, schemaErr("type", "unknown record type %T", r)
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRecordSize {
		return nil, schemaErr("", "record is %d bytes, more than %d", len(b), MaxRecordSize)
	}
	return b, nil
}

// Parse decodes one line (without its newline) strictly: the version must be
// known, the type one of the record kinds, no field unknown or of the wrong
// type, every field valid, and the line exactly its canonical encoding.
// It is the one decoder of records: every reader of the log uses it, so
// none accepts a line the audit rejects.
func Parse(line []byte) (Record, error) {
	if len(line) > MaxRecordSize {
		return nil, schemaErr("", "record is %d bytes, more than %d", len(line), MaxRecordSize)
	}
	h, ok := canonicalHeader(line)
	if !ok {
		if err := json.Unmarshal(line, &h); err != nil {
			return nil, schemaErr("", "not a JSON record: %v", err)
		}
	}
	if h.V != Version {
		return nil, schemaErr("v", "unsupported record version %d", h.V)
	}
	r, w, err := newWire(h.Type)
	if err != nil {
		return nil, err
	}
	// Plain Unmarshal is the fast path; the canonical comparison below
	// rejects unknown or misspelt fields too, and strictError then finds
	// the precise reason.
	if err := json.Unmarshal(line, w); err != nil {
		return nil, strictError(h.Type, line, err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	canon, err := marshalWire(r)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, line) {
		return nil, strictError(h.Type, line, errNotCanonical)
	}
	return r, nil
}

func newWire(k Kind) (Record, any, error) {
	switch k {
	case KindIngest:
		x := new(Ingest)
		return x, &wireIngest{Ingest: x}, nil
	case KindDuplicate:
		x := new(Duplicate)
		return x, &wireDuplicate{Duplicate: x}, nil
	case KindQuarantine:
		x := new(Quarantine)
		return x, &wireQuarantine{Quarantine: x}, nil
	case KindAccess:
		x := new(Access)
		return x, &wireAccess{Access: x}, nil
	case KindConfig:
		x := new(Config)
		return x, &wireConfig{Config: x}, nil
	}
	return nil, nil, schemaErr("type", "unknown record type %q", k)
}

// strictError decodes a rejected line again, disallowing unknown fields and
// trailing data, to say exactly what is wrong with it; fallback is the
// reason when nothing more precise is found.
func strictError(k Kind, line []byte, fallback error) error {
	_, w, err := newWire(k)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(w); err != nil {
		return schemaErr("", "%s record: %v", k, err)
	}
	if dec.More() {
		return schemaErr("", "trailing data after the record")
	}
	if errors.Is(fallback, errNotCanonical) {
		return &SchemaError{Err: errNotCanonical}
	}
	return schemaErr("", "%s record: %v", k, fallback)
}

// headerPrefixes are the starts of canonical lines, which spare Parse a
// separate decode of the header on every record of a large log.
var headerPrefixes = func() map[Kind]string {
	m := map[Kind]string{}
	for _, k := range []Kind{KindIngest, KindDuplicate, KindQuarantine, KindAccess, KindConfig} {
		m[k] = fmt.Sprintf(`{"v":%d,"type":%q,`, Version, k)
	}
	return m
}()

func canonicalHeader(line []byte) (header, bool) {
	for k, p := range headerPrefixes {
		if bytes.HasPrefix(line, []byte(p)) {
			return header{V: Version, Type: k}, true
		}
	}
	return header{}, false
}

func (r *Ingest) normalize() Record {
	c := *r
	c.Time = normTime(c.Time)
	return &c
}

func (r *Duplicate) normalize() Record {
	c := *r
	c.Time = normTime(c.Time)
	return &c
}

func (r *Quarantine) normalize() Record {
	c := *r
	c.Time = normTime(c.Time)
	return &c
}

func (r *Access) normalize() Record {
	c := *r
	c.Codes = append([]string(nil), r.Codes...)
	c.Time = normTime(c.Time)
	if r.At != nil {
		at := *r.At
		c.At = &at
	}
	return &c
}

// normTime keeps whole seconds in UTC: finer times add nothing to an audit
// and a fixed form keeps the encoding canonical.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func (r *Ingest) check() error {
	if err := checkUUID("photo", r.Photo); err != nil {
		return err
	}
	if err := checkUUID("subject", r.Subject); err != nil {
		return err
	}
	if !isPhase(r.Phase) {
		return schemaErr("phase", "%q is not one of %s", r.Phase, strings.Join(Phases, ", "))
	}
	if r.Interval != "" && !release.ValidInterval(r.Interval) {
		return schemaErr("interval", "%q is not an ISO 8601 duration such as P2W or P6M", r.Interval)
	}
	if !isToken(r.Format, 16, false) {
		return schemaErr("format", "%q is not a format name", r.Format)
	}
	ext, ok := strings.CutPrefix(r.Released.Path, r.Subject+"/"+r.Photo+".")
	if !ok || !isToken(ext, 8, false) {
		return schemaErr("released.path", "%q is not <subject>/<photo>.<ext>", r.Released.Path)
	}
	if err := checkSHA256("released.sha256", r.Released.SHA256); err != nil {
		return err
	}
	if r.Released.Size <= 0 {
		return schemaErr("released.size", "%d is not a file size", r.Released.Size)
	}
	if r.Released.Width <= 0 || r.Released.Height <= 0 {
		return schemaErr("released", "%dx%d is not an image size", r.Released.Width, r.Released.Height)
	}
	if err := checkSHA256("blob.sha256", r.Blob.SHA256); err != nil {
		return err
	}
	if r.Blob.Size <= 0 {
		return schemaErr("blob.size", "%d is not a blob size", r.Blob.Size)
	}
	if err := checkTime("time", r.Time); err != nil {
		return err
	}
	return checkSealed("sealed", r.Sealed)
}

func (r *Duplicate) check() error {
	if err := checkUUID("of", r.Of); err != nil {
		return err
	}
	if err := checkTime("time", r.Time); err != nil {
		return err
	}
	return checkSealed("sealed", r.Sealed)
}

func (r *Quarantine) check() error {
	if !isToken(r.Reason, 40, true) {
		return schemaErr("reason", "%q is not a reason category (lower-case letters, digits, '-')", r.Reason)
	}
	if err := checkTime("time", r.Time); err != nil {
		return err
	}
	return checkSealed("sealed", r.Sealed)
}

// maxCodes bounds one access record; a custodian revealing more at once
// should say so in several records.
const maxCodes = 1000

func (r *Access) check() error {
	if r.Action != ActionReveal && r.Action != ActionRestore && r.Action != ActionFind {
		return schemaErr("action", "%q is not %s, %s or %s", r.Action, ActionReveal, ActionRestore, ActionFind)
	}
	min := 1
	if r.Action == ActionFind {
		min = 0 // see ActionFind
	}
	if len(r.Codes) < min || len(r.Codes) > maxCodes {
		return schemaErr("codes", "%d codes, want %d to %d", len(r.Codes), min, maxCodes)
	}
	for _, c := range r.Codes {
		if err := checkUUID("codes", c); err != nil {
			return err
		}
	}
	if !ValidReason(r.Reason) {
		return schemaErr("reason", "must be 1 to 1000 bytes of text on one line")
	}
	if err := checkTime("time", r.Time); err != nil {
		return err
	}
	if r.At != nil {
		if err := r.At.check(); err != nil {
			return err
		}
	}
	return checkSigner(r.Custodian, r.Sig)
}

func checkUUID(field, s string) error {
	if !code.Valid(s) {
		return schemaErr(field, "%q is not a lower-case UUIDv4", s)
	}
	return nil
}

func checkSHA256(field, s string) error {
	if !isHex(s, 64) {
		return schemaErr(field, "%q is not a lower-case hex SHA-256", s)
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func checkTime(field string, t time.Time) error {
	if t.IsZero() || t.Year() < 2000 || t.Year() > 9999 {
		return schemaErr(field, "missing or implausible time %v", t)
	}
	if _, off := t.Zone(); off != 0 || t.Nanosecond() != 0 {
		return schemaErr(field, "%v is not whole seconds in UTC", t)
	}
	return nil
}

func isPhase(s string) bool {
	for _, p := range Phases {
		if s == p {
			return true
		}
	}
	return false
}

// isToken reports whether s is 1 to max lower-case letters and digits (and
// '-' if dash): a shape that cannot carry a name or a path.
func isToken(s string, max int, dash bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || dash && c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// ValidReason says whether s can be the reason of an access record: 1 to
// 1000 bytes of UTF-8 text on one line, without control characters, so
// that an auditor's line-oriented tools show it as it is.
func ValidReason(s string) bool {
	return strings.TrimSpace(s) != "" && len(s) <= 1000 && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, unicode.IsControl)
}
