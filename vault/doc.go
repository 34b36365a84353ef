// Package vault keeps the untouched originals of ingested photos, encrypted so
// that the host that adds to the vault can never read it back (SPEC: Vault).
//
// # Roles and keys
//
// The ingest host holds only public encryption keys (age X25519 recipients in
// vault.json) and two secrets that never leave VAULT/keys/: the log signer
// (a golang.org/x/mod/sumdb/note key named "veil/<vault id>") and the index
// key (32 random bytes for HMAC-keyed indexes). The custodian holds the one
// identity that decrypts blobs and sealed manifest fields, and an ed25519 key
// that signs access records. Both live in the custodian file, which Init
// writes outside the vault and the operator moves off the host.
//
// # Layout
//
//	VAULT/vault.json              public configuration (Config), strict JSON
//	VAULT/auditor.pub             the public keys an auditor pins (PublicKeys)
//	VAULT/keys/log.key            note signer key, 0600
//	VAULT/keys/index.key          index key, 64 hex digits and a newline, 0600
//	VAULT/blobs/ab/<sha256>.age   an age file; the name is the SHA-256 of its bytes
//	VAULT/log/                    the manifest (package manifest)
//	VAULT/index/                  HMAC-keyed indexes (package ingest)
//	VAULT/lock                    flock'ed by writers; names the holder
//
// A blob is a plain age v1 file, so a custodian can also decrypt one with the
// age command line tool and the identity from the custodian file.
//
// # Custodian file
//
// An ASCII-armored age file encrypted with a passphrase (scrypt). Its
// plaintext is exactly these four lines:
//
//	veil-custodian v1
//	vault <vault id>
//	age-identity AGE-SECRET-KEY-1...
//	ed25519-seed <standard base64 of the 32-byte ed25519 seed>
//
// # auditor.pub
//
// A text file of "key value" lines in this exact order, each ending in a
// newline, with no blank lines, comments or extra spaces:
//
//	veil-auditor-keys v1
//	vault <vault id>
//	recipient age1...                   (one or more)
//	log-verifier veil/<vault id>+<hash>+<key>
//	custodian-verifier <base64 ed25519 public key>   (one or more)
//
// # Lock file
//
// VAULT/lock is locked with flock(2); while held it contains one JSON object
// (LockInfo) naming host, pid, command and start time, and it is emptied on
// Release. A lock file that is not flock'ed but still names a holder was left
// by a crash; if the holder is a dead process on this host, AcquireLock takes
// the lock and reports the stale holder (Lock.Stale).
//
// # Temporary files
//
// Put writes into VAULT/blobs/ under a name that starts with
// atomicfile.TempPrefix and records the writer's pid and host. Open removes
// such files when their writer is no longer running on this host, so a crash
// never leaves more than an unreferenced temp that the next run cleans up.
package vault
