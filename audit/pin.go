package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
)

// ReadPin reads the auditor's pin file, the signed checkpoint of an earlier
// audit, for Options.PinnedCheckpoint: nil when there is none yet (the first
// audit pins one).
func ReadPin(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: pin: %w", err)
	}
	return b, nil
}

// PinUpdate is what AdvancePin did to the pin file.
type PinUpdate struct {
	Had   bool  // a checkpoint was pinned before
	From  int64 // the records the pinned checkpoint covered
	To    int64 // the records the log's checkpoint covers, if it has one
	Wrote bool  // the log's checkpoint is now pinned
}

// AdvancePin stores the log's verified checkpoint in the auditor's pin file
// at path if there was none or the log has grown since. Call it only after
// an audit without findings, which includes the proof that the new
// checkpoint extends the pinned one; the file is replaced atomically.
func AdvancePin(path string, rep *manifest.Report) (PinUpdate, error) {
	var up PinUpdate
	if rep.Pinned != nil {
		up.Had, up.From = true, rep.Pinned.N
	}
	if rep.Checkpoint == nil {
		return up, nil
	}
	up.To = rep.Checkpoint.N
	if up.Had && up.From >= up.To {
		return up, nil
	}
	if err := atomicfile.WriteFile(path, rep.CheckpointNote, 0o644); err != nil {
		return up, fmt.Errorf("audit: pin: %w", err)
	}
	up.Wrote = true
	return up, nil
}
