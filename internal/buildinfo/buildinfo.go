// Package buildinfo names the version of the running veil from what the
// Go toolchain recorded in the binary.
package buildinfo

import "runtime/debug"

// Version is set when it was set at build time (with -ldflags "-X ..."),
// else the module version of a 'go install ...@version', else "devel-" and
// the VCS revision a source build was made from ("-dirty" if it had
// uncommitted changes), else "devel".
func Version(set string) string {
	if set != "" {
		return set
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
}

// fromBuildInfo is Version for a binary built with bi.
func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	v := "devel"
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += "-" + rev[:min(12, len(rev))]
		if settings["vcs.modified"] == "true" {
			v += "-dirty"
		}
	}
	return v
}
