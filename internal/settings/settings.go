// Package settings resolves veil's practice-wide settings: each comes, first
// found wins, from its flag, its environment variable, the config file, or
// the flag's default. The environment is passed in as a lookup function and
// the config file's locations as paths, so that this package never reads the
// process environment itself; applying the values to flags is the command
// line's job.
package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Setting is one practice-wide setting.
type Setting struct {
	Key  string   // in the config file
	Flag string   // the flag it fills in
	Env  string   // its environment variable
	Cmds []string // the commands it applies to; nil: every command with the flag
	Help string
}

// All are every setting, in the order 'veil config' shows them. A setting
// whose flag a command lacks (--exclude before it exists, say) is simply not
// applied to it.
var All = []Setting{
	{"vault", "vault", "VEIL_VAULT", nil, "the vault folder"},
	{"out", "out", "VEIL_OUT", []string{"ingest", "watch"}, "the release folder ingest and watch write"},
	{"release", "release", "VEIL_RELEASE", []string{"verify", "gallery"}, "the release folder verify and gallery read"},
	{"state", "state", "VEIL_STATE", []string{"ingest", "watch"}, "this host's state folder, outside the vault (the host pin)"},
	{"layout", "layout", "VEIL_LAYOUT", nil, "how patient and phase are read from inbox paths"},
	{"phase_alias", "phase-alias", "VEIL_PHASE_ALIAS", nil, "extra phase words, WORD=PHASE[:INTERVAL] (a list)"},
	{"exclude", "exclude", "VEIL_EXCLUDE", nil, "inbox file patterns never taken (a list)"},
	{"settle", "settle", "VEIL_SETTLE", nil, "how long a file must be unchanged before it is taken"},
	{"workers", "workers", "VEIL_WORKERS", nil, "files processed in parallel"},
	{"identity", "identity", "VEIL_IDENTITY", nil, "the custodian identity file"},
	{"passphrase_file", "passphrase-file", "VEIL_PASSPHRASE_FILE", nil, "file holding the custodian passphrase"},
	{"passphrase_command", "passphrase-command", "VEIL_PASSPHRASE_COMMAND", nil, "command printing the custodian passphrase"},
	{"pub", "pub", "VEIL_PUB", []string{"verify"}, "the auditor's pinned auditor.pub"},
	{"receipt", "receipt", "VEIL_RECEIPT", []string{"reveal", "restore", "find"}, "the custodian's receipt file, given to every access"},
}

// List reports whether a setting takes several values; in the environment
// they are separated like PATH (":" on Unix).
func (s Setting) List() bool { return s.Key == "exclude" || s.Key == "phase_alias" }

// AppliesTo reports whether s fills in a flag of the command named cmd.
func (s Setting) AppliesTo(cmd string) bool {
	return s.Cmds == nil || slices.Contains(s.Cmds, cmd)
}

// ConfigEnv names the config file, overriding the default locations.
const ConfigEnv = "VEIL_CONFIG"

// Locations are where the config file is looked for when VEIL_CONFIG is not
// set: the practice-wide file first, then the user's under userConfigDir
// (os.UserConfigDir; "" when there is none).
func Locations(userConfigDir string) []string {
	locs := []string{"/etc/veil/veil.toml"}
	if userConfigDir != "" {
		locs = append(locs, filepath.Join(userConfigDir, "veil", "veil.toml"))
	}
	return locs
}

// Source says where a setting's value came from.
type Source string

// The sources of a value, strongest first.
const (
	FromFlag    Source = "flag"
	FromEnv     Source = "env"
	FromFile    Source = "file"
	FromDefault Source = "default"
)

// Sources are the environment and the config file a setting's value may come
// from.
type Sources struct {
	File   string // the config file read; "" when there is none
	getenv func(string) string
	values map[string][]string // each setting's values in the file, as the flag would take them
}

// Load finds and reads the config file: the one getenv(VEIL_CONFIG) names,
// which must exist, else the first of locations that exists (there may be
// none). getenv is os.Getenv, or a map's lookup in a test; an empty value is
// unset.
func Load(getenv func(string) string, locations []string) (*Sources, error) {
	src := &Sources{getenv: getenv, values: map[string][]string{}}
	path := getenv(ConfigEnv)
	if path == "" {
		for _, p := range locations {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		return src, nil
	}
	if err := src.read(path); err != nil {
		return nil, err
	}
	return src, nil
}

// read reads a TOML config file strictly: an unknown key or a value of the
// wrong kind is an error, not a setting silently ignored.
func (src *Sources) read(path string) error {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("config file %s (%s): %w", path, ConfigEnv, fs.ErrNotExist)
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for key, v := range raw {
		if !slices.ContainsFunc(All, func(s Setting) bool { return s.Key == key }) {
			return fmt.Errorf("config file %s: unknown setting %q (see 'veil config --help')", path, key)
		}
		vals, err := configValues(v)
		if err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, key, err)
		}
		src.values[key] = vals
	}
	src.File = path
	return nil
}

// configValues turns a TOML value into the flag values it stands for.
func configValues(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case int64:
		return []string{strconv.FormatInt(v, 10)}, nil
	case []any:
		var out []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("want a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string, a whole number or a list of strings, not %T", v)
}

// Lookup returns a setting's values from the environment or the file, and
// where they came from; FromDefault with no values when neither has it. A
// flag given on the command line wins over both: the caller skips Lookup for
// it.
func (src *Sources) Lookup(s Setting) ([]string, Source) {
	if v := src.getenv(s.Env); v != "" {
		if s.List() {
			return strings.Split(v, string(os.PathListSeparator)), FromEnv
		}
		return []string{v}, FromEnv
	}
	if v, ok := src.values[s.Key]; ok {
		return v, FromFile
	}
	return nil, FromDefault
}

// Where names where a value from src came from, for an error about it: the
// environment variable, or the config file and key.
func (src *Sources) Where(s Setting, from Source) string {
	if from == FromFile {
		return src.File + ": " + s.Key
	}
	return s.Env
}

// Value is a setting's resolved value.
type Value struct {
	Setting
	Values []string // none when it is the flag's default
	Source Source
}

// Resolve returns every setting's value, in the order of All: from flags
// (the values of the flags given on the command line, by flag name) first,
// then the environment, then the file; FromDefault when none has it.
func (src *Sources) Resolve(flags map[string][]string) []Value {
	out := make([]Value, 0, len(All))
	for _, s := range All {
		if v, ok := flags[s.Flag]; ok {
			out = append(out, Value{s, v, FromFlag})
			continue
		}
		vals, from := src.Lookup(s)
		out = append(out, Value{s, vals, from})
	}
	return out
}
