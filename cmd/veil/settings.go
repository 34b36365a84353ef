package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/veil-photo/veil/internal/settings"
	"github.com/veil-photo/veil/internal/ui"
)

// A setting comes, first found wins, from its flag, its environment
// variable, the config file, or the flag's default (package settings
// resolves them). This file is the only place that reads the environment
// for them: it fills in the flags a command was not given before the
// command runs, so commands see flags only.

// loadSettings reads the environment and the config file.
func loadSettings() (*settings.Sources, error) {
	return settings.Load(os.Getenv, configLocations())
}

// configLocations are where the config file is looked for when VEIL_CONFIG
// is not set.
func configLocations() []string {
	dir, _ := os.UserConfigDir()
	return settings.Locations(dir)
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
	src, err := loadSettings()
	if err != nil {
		return err
	}
	for _, s := range settings.All {
		f := c.Flags().Lookup(s.Flag)
		if f == nil || f.Changed || !s.AppliesTo(c.Name()) {
			continue
		}
		vals, from := src.Lookup(s)
		if from == settings.FromDefault {
			continue
		}
		if err := setFlag(f, vals); err != nil {
			return usageError{err: fmt.Errorf("%s: %v", src.Where(s, from), err), cmd: c.CommandPath()}
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
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			return runConfig(c, c.OutOrStdout())
		},
	}
	for _, s := range settings.All {
		c.Flags().StringArray(s.Flag, nil, s.Help)
	}
	return c
}

// settingDefault is the default of a setting's flag, from the first command
// that has the flag.
func settingDefault(root *cobra.Command, s settings.Setting) string {
	for _, c := range root.Commands() {
		if f := c.Flags().Lookup(s.Flag); f != nil && s.AppliesTo(c.Name()) && c.Name() != "config" {
			if f.Value.Type() == "stringArray" || f.Value.Type() == "stringSlice" {
				return strings.Trim(f.DefValue, "[]")
			}
			return f.DefValue
		}
	}
	return ""
}

func runConfig(c *cobra.Command, w io.Writer) error {
	src, err := loadSettings()
	if err != nil {
		return err
	}
	given := map[string][]string{}
	for _, s := range settings.All {
		if c.Flags().Lookup(s.Flag).Changed {
			given[s.Flag], _ = c.Flags().GetStringArray(s.Flag)
		}
	}
	rows := src.Resolve(given)
	for i, r := range rows {
		if r.Source == settings.FromDefault {
			if d := settingDefault(c.Root(), r.Setting); d != "" {
				rows[i].Values = []string{d}
			}
		}
	}
	return ui.PrintConfig(w, src.File, configLocations(), rows, globalOpts.JSON)
}
