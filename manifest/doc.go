// Package manifest is veil's signed, append-only log: every photo ingested,
// every duplicate, every quarantine and every reversal of a code is one
// record in a Merkle tree (golang.org/x/mod/sumdb/tlog), and a checkpoint
// signed with the vault's log key (golang.org/x/mod/sumdb/note) commits to
// the tree.
//
// On disk, in the vault's log directory:
//
//	records     one canonical JSON record per line, append-only
//	hashes      the tlog stored hashes (32 bytes each, tlog.StoredHashIndex
//	            order); a cache derived from records, recomputed on open
//	checkpoint  the signed C2SP tlog-checkpoint: origin, size, root hash
//
// Commit point: a record is committed once its complete line, newline
// included, is in records and records has been fsynced. Everything else
// follows from records: Open truncates a torn final line (an append that
// never reached its fsync, so its caller never saw success), recomputes stored
// hashes missing after a crash, and re-signs a checkpoint that lags behind the
// committed records. A committed record is therefore never lost and, because
// recovery only ever completes what is on disk, never written twice.
//
// Readers stream the records file; nothing holds the whole log in memory.
package manifest
