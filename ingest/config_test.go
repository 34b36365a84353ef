package ingest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigOptions: each mistake in a Config is reported in the words of
// the flag at fault, and a good Config compiles into the Options it says.
func TestConfigOptions(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	good := Config{Vault: filepath.Join(dir, "vault"), Release: filepath.Join(dir, "release"), Layout: "{patient}/{phase}",
		Workers: 2, Settle: time.Second, MaxSize: "1MB", Exclude: []string{"*.aae"}}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no vault", func(c *Config) { c.Vault = "" }, "--vault is required"},
		{"no release", func(c *Config) { c.Release = "" }, "--out RELEASE is required"},
		{"no workers", func(c *Config) { c.Workers = 0 }, "--workers must be at least 1"},
		{"negative settle", func(c *Config) { c.Settle = -time.Second }, "--settle must not be negative"},
		{"bad size", func(c *Config) { c.MaxSize = "big" }, "--max-size: "},
		{"gallery in release", func(c *Config) { c.Gallery = filepath.Join(c.Release, "site") }, "overlap"},
		{"bad exclude", func(c *Config) { c.Exclude = []string{"["} }, `--exclude "[": not a pattern`},
		{"bad alias", func(c *Config) { c.PhaseAlias = []string{"nonsense"} }, "--phase-alias: "},
		{"bad layout", func(c *Config) { c.Layout = "{nonsense}" }, "--layout: "},
		{"release in inbox", func(c *Config) { c.Release = filepath.Join(inbox, "release") }, "is inside the inbox"},
	} {
		c := good
		tc.edit(&c)
		if _, err := c.Options([]string{inbox}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	c := good
	c.Release = filepath.Join(inbox, "release")
	if _, err := c.Options([]string{inbox}); !errors.As(err, new(*ApartError)) {
		t.Errorf("release in the inbox: %v, want an *ApartError", err)
	}
	o, err := good.Options([]string{inbox})
	if err != nil {
		t.Fatal(err)
	}
	if o.Release != good.Release || o.Layout == nil || o.Workers != 2 || o.Settle != time.Second || o.MaxSize != 1e6 || len(o.Exclude) != 1 {
		t.Errorf("compiled %+v from %+v", o, good)
	}
}
