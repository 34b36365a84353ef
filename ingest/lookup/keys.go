package lookup

import (
	"crypto/hmac"
	"crypto/sha256"
)

// MAC is a keyed hash of something that identifies a patient or a file: the
// journal and the table hold these, never the thing itself.
type MAC [32]byte

// short is a MAC cut to 128 bits: the key of a slot in the table.
// Collisions among keyed 128-bit values are out of reach.
type short [16]byte

func (m MAC) short() short { return short(m[:16]) }

// Keys computes the MACs of the index with the vault's index key; the
// domain keeps the kinds of input apart.
type Keys struct{ key []byte }

// NewKeys returns the Keys of the vault's index key.
func NewKeys(key []byte) Keys { return Keys{key: key} }

func (k Keys) sum(domain string, data []byte) MAC {
	h := hmac.New(sha256.New, k.key)
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write(data)
	var m MAC
	h.Sum(m[:0])
	return m
}

// Subject is the MAC of a subject key (layout.Placement.Key: "id:" and the
// patient's ID, or "name:" and the name, folded only where no two names
// differ).
func (k Keys) Subject(subjectKey string) MAC { return k.sum("subject", []byte(subjectKey)) }

// Loose is the MAC of a name's loose key (layout.LooseKey), under which
// spellings that might be one patient collide.
func (k Keys) Loose(looseKey string) MAC { return k.sum("loose", []byte(looseKey)) }

// Original is the MAC of an original's SHA-256.
func (k Keys) Original(sha [32]byte) MAC { return k.sum("original", sha[:]) }

// Path is the MAC of a file's absolute path.
func (k Keys) Path(p string) MAC { return k.sum("path", []byte(p)) }

// Note is the MAC of a note the writer leaves for itself in the vault (the
// batch it is staging): only a holder of the index key can make one.
func (k Keys) Note(text []byte) MAC { return k.sum("note", text) }

// dupSlot is the table key of a "d" entry: a duplicate source, by its path
// and its bytes.
func dupSlot(path, orig MAC) slotKey {
	h := sha256.New()
	h.Write(path[:])
	h.Write(orig[:])
	return slotKey(h.Sum(nil)[:16])
}
