// Package inbox holds the rules of what a pass over an inbox folder takes:
// which names are never photos (hidden files, copies in progress, system
// litter), which folders are never walked into, and the walk itself. ingest,
// watch and strip all follow these rules, so a file skipped by one is
// skipped by all.
package inbox

import "strings"

// QuarantineDir is the folder, inside each inbox, where refused files go.
const QuarantineDir = ".quarantine"

// tempSuffixes and tempPrefixes are names that copy tools, browsers, sync
// clients and editors give a file while it is still being written.
var (
	tempSuffixes = []string{"~", ".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp", ".!sync", ".sb-"}
	tempPrefixes = []string{"~$", ".~"}
	// systemNames are files an operating system leaves in any folder it
	// shows. They are not photos: skipped, never quarantined. (Thumbs.db
	// holds thumbnails of the folder's photos; it stays where Windows put it.)
	systemNames = []string{"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "icon\r"}
)

// SkipFile reports whether a file's base name is hidden, a copy in
// progress, or operating-system litter: never taken, never quarantined.
func SkipFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	l := strings.ToLower(name)
	for _, s := range systemNames {
		if l == s {
			return true
		}
	}
	for _, s := range tempSuffixes {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	for _, s := range tempPrefixes {
		if strings.HasPrefix(l, s) {
			return true
		}
	}
	return strings.Contains(l, ".sb-") // macOS safe-save
}

// SkipDir reports whether a folder below an inbox is never walked into:
// hidden folders, which include .quarantine and other tools' folders.
func SkipDir(name string) bool { return strings.HasPrefix(name, ".") }
