package ingest

// IsTempName reports whether a base name is one the walk never takes: a
// hidden file, or the temporary name of a copy in progress (.part,
// .crdownload, .tmp, ~$ files...). A watcher uses it to ignore the file
// system events of such names, which would otherwise start passes that
// find nothing to do.
func IsTempName(name string) bool { return isTempName(name) }
