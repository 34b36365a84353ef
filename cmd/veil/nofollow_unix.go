//go:build unix

package main

import "syscall"

// oNoFollow makes open fail on a symlink instead of following it, so a link
// swapped in after the directory walk is still refused.
const oNoFollow = syscall.O_NOFOLLOW

// errSymlinkOpen is what open with O_NOFOLLOW returns for a symlink.
var errSymlinkOpen = syscall.ELOOP
