package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/veil-photo/veil/internal/ui"
)

// A setting comes, first found wins, from its flag, its environment
// variable, the config file, or the flag's default. This file is the only
// place that reads the environment or the config file (library packages
// never do): it fills in the flags a command was not given before the
// command runs, so commands see flags only.

// setting is one practice-wide setting.
type setting struct {
	key  string   // in the config file
	flag string   // the flag it fills in
	env  string   // its environment variable
	cmds []string // the commands it applies to; nil: every command with the flag
	help string
}

// settings are every setting, in the order 'veil config' shows them. A
// setting whose flag a command lacks (--exclude before it exists, say) is
// simply not applied to it.
var settings = []setting{
	{"vault", "vault", "VEIL_VAULT", nil, "the vault folder"},
	{"out", "out", "VEIL_OUT", []string{"ingest", "watch"}, "the release folder ingest and watch write"},
	{"release", "release", "VEIL_RELEASE", []string{"verify", "gallery"}, "the release folder verify and gallery read"},
	{"layout", "layout", "VEIL_LAYOUT", nil, "how patient and phase are read from inbox paths"},
	{"phase_alias", "phase-alias", "VEIL_PHASE_ALIAS", nil, "extra phase words, WORD=PHASE[:INTERVAL] (a list)"},
	{"exclude", "exclude", "VEIL_EXCLUDE", nil, "inbox file patterns never taken (a list)"},
	{"settle", "settle", "VEIL_SETTLE", nil, "how long a file must be unchanged before it is taken"},
	{"workers", "workers", "VEIL_WORKERS", nil, "files processed in parallel"},
	{"identity", "identity", "VEIL_IDENTITY", nil, "the custodian identity file"},
	{"passphrase_file", "passphrase-file", "VEIL_PASSPHRASE_FILE", nil, "file holding the custodian passphrase"},
	{"passphrase_command", "passphrase-command", "VEIL_PASSPHRASE_COMMAND", nil, "command printing the custodian passphrase"},
	{"pub", "pub", "VEIL_PUB", []string{"verify"}, "the auditor's pinned auditor.pub"},
}

// configEnv names the config file, overriding the default locations.
const configEnv = "VEIL_CONFIG"

// configLocations are where the config file is looked for when VEIL_CONFIG
// is not set: the practice-wide file first, then the user's.
func configLocations() []string {
	locs := []string{"/etc/veil/veil.toml"}
	if dir, err := os.UserConfigDir(); err == nil {
		locs = append(locs, filepath.Join(dir, "veil", "veil.toml"))
	}
	return locs
}

// configFile is a loaded config file: each setting's values, as the flag
// would take them (a list setting has several).
type configFile struct {
	path   string // "" when there is none
	values map[string][]string
}

// loadConfig finds and reads the config file. VEIL_CONFIG must name a file
// that exists; the default locations may hold none.
func loadConfig() (*configFile, error) {
	if p := os.Getenv(configEnv); p != "" {
		return readConfig(p)
	}
	for _, p := range configLocations() {
		if _, err := os.Stat(p); err == nil {
			return readConfig(p)
		}
	}
	return &configFile{values: map[string][]string{}}, nil
}

// readConfig reads a TOML config file strictly: an unknown key or a value
// of the wrong kind is an error, not a setting silently ignored.
func readConfig(path string) (*configFile, error) {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config file %s (%s): %w", path, configEnv, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	cf := &configFile{path: path, values: map[string][]string{}}
	for key, v := range raw {
		known := false
		for _, s := range settings {
			known = known || s.key == key
		}
		if !known {
			return nil, fmt.Errorf("config file %s: unknown setting %q (see 'veil config --help')", path, key)
		}
		vals, err := configValues(v)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %s: %w", path, key, err)
		}
		cf.values[key] = vals
	}
	return cf, nil
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

// source says where a setting's value came from.
type source string

const (
	fromFlag    source = "flag"
	fromEnv     source = "env"
	fromFile    source = "file"
	fromDefault source = "default"
)

// lookup returns a setting's values from the environment or the file, and
// where they came from; fromDefault with no values when neither has it.
func (cf *configFile) lookup(s setting) ([]string, source) {
	if v := os.Getenv(s.env); v != "" {
		if isList(s) {
			return strings.Split(v, string(os.PathListSeparator)), fromEnv
		}
		return []string{v}, fromEnv
	}
	if v, ok := cf.values[s.key]; ok {
		return v, fromFile
	}
	return nil, fromDefault
}

// isList reports whether a setting takes several values; in the
// environment they are separated like PATH (":" on Unix).
func isList(s setting) bool { return s.key == "exclude" || s.key == "phase_alias" }

// applies reports whether s fills in a flag of the command named cmd.
func (s setting) applies(cmd string) bool {
	if s.cmds == nil {
		return true
	}
	for _, c := range s.cmds {
		if c == cmd {
			return true
		}
	}
	return false
}

// applySettings fills in the flags of c that were not given from the
// environment and the config file. It runs before every command.
func applySettings(c *cobra.Command) error {
	switch c.Name() {
	case "config", "help", "version", "man", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return nil // config reports the settings itself; the others use none
	}
	if c.HasParent() && c.Parent().Name() == "completion" {
		return nil
	}
	cf, err := loadConfig()
	if err != nil {
		return err
	}
	for _, s := range settings {
		f := c.Flags().Lookup(s.flag)
		if f == nil || f.Changed || !s.applies(c.Name()) {
			continue
		}
		vals, src := cf.lookup(s)
		if src == fromDefault {
			continue
		}
		if err := setFlag(f, vals); err != nil {
			where := s.env
			if src == fromFile {
				where = cf.path + ": " + s.key
			}
			return usageError{err: fmt.Errorf("%s: %v", where, err), cmd: c.CommandPath()}
		}
	}
	return nil
}

// setFlag sets a flag to values as if each had been given on the command
// line, so that the flag's own parsing and checks apply.
func setFlag(f *pflag.Flag, vals []string) error {
	if len(vals) > 1 {
		if _, ok := f.Value.(pflag.SliceValue); !ok {
			return fmt.Errorf("--%s takes one value, not a list", f.Name)
		}
	}
	for _, v := range vals {
		if err := f.Value.Set(v); err != nil {
			return err
		}
	}
	return nil
}

func newConfigCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show the effective settings and where each came from",

		Long:    helpLong("config"),
		Example: helpExample("config"),

		Args: argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			return runConfig(c, c.OutOrStdout())
		},
	}
	for _, s := range settings {
		c.Flags().StringArray(s.flag, nil, s.help)
	}
	return c
}

// settingDefault is the default of a setting's flag, from the first command
// that has the flag.
func settingDefault(root *cobra.Command, s setting) string {
	for _, c := range root.Commands() {
		if f := c.Flags().Lookup(s.flag); f != nil && s.applies(c.Name()) && c.Name() != "config" {
			if f.Value.Type() == "stringArray" || f.Value.Type() == "stringSlice" {
				return strings.Trim(f.DefValue, "[]")
			}
			return f.DefValue
		}
	}
	return ""
}

func runConfig(c *cobra.Command, w io.Writer) error {
	cf, err := loadConfig()
	if err != nil {
		return err
	}
	type row struct {
		s    setting
		vals []string
		src  source
	}
	var rows []row
	for _, s := range settings {
		vals, src := cf.lookup(s)
		if f := c.Flags().Lookup(s.flag); f.Changed {
			vals, _ = c.Flags().GetStringArray(s.flag)
			src = fromFlag
		}
		if src == fromDefault {
			if d := settingDefault(c.Root(), s); d != "" {
				vals = []string{d}
			}
		}
		rows = append(rows, row{s, vals, src})
	}
	if globalOpts.JSON {
		l := ui.NewEventLog(w, "")
		l.Emit(slog.LevelInfo, "config", slog.String("file", cf.path), slog.Any("looked_in", configLocations()))
		for _, r := range rows {
			l.Emit(slog.LevelInfo, "setting", slog.String("key", r.s.key), slog.String("env", r.s.env),
				slog.Any("value", r.vals), slog.String("source", string(r.src)))
		}
		return nil
	}
	file := cf.path
	if file == "" {
		file = "none (looked for " + strings.Join(configLocations(), ", ") + ")"
	}
	fmt.Fprintf(w, "config file: %s\n", ui.EscapeName(file))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tFROM\tENV")
	for _, r := range rows {
		shown := strings.Join(r.vals, ", ")
		if shown == "" {
			shown = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.s.key, ui.EscapeControls(shown), r.src, r.s.env)
	}
	return tw.Flush()
}
