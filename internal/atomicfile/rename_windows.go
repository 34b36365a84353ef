package atomicfile

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// Rename renames from to to, replacing to, and returns only once the rename
// is on disk (MOVEFILE_WRITE_THROUGH): Windows offers no way to flush a
// folder's entries that works without administrator rights, so each rename
// is made durable by itself.
func Rename(from, to string) error {
	return move(from, to, windows.MOVEFILE_REPLACE_EXISTING)
}

// link gives temp the name target, failing with fs.ErrExist if target
// exists: MoveFileEx without MOVEFILE_REPLACE_EXISTING refuses an existing
// target, in one step and write-through like Rename.
func link(temp, target string) error {
	err := move(temp, target, 0)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) || errors.Is(err, windows.ERROR_FILE_EXISTS) {
		return &os.LinkError{Op: "rename", Old: temp, New: target, Err: fs.ErrExist}
	}
	if err == nil {
		return nil
	}
	return err
}

func move(from, to string, flags uint32) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	if err := windows.MoveFileEx(f, t, flags|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// syncDir flushes a folder's entries where the file system allows it
// (FlushFileBuffers on a folder handle opened for writing, which NTFS
// accepts); where it does not, the renames of this package are write-through
// anyway, so it is not an error.
func syncDir(dir string) error {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
			return nil
		}
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	defer windows.CloseHandle(h)
	err = windows.FlushFileBuffers(h)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_INVALID_FUNCTION) || errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
		return nil
	}
	if err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	return nil
}
