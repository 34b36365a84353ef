package settings

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// env is an environment given as a value.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func setting(t *testing.T, key string) Setting {
	t.Helper()
	i := slices.IndexFunc(All, func(s Setting) bool { return s.Key == key })
	if i < 0 {
		t.Fatalf("no setting %q", key)
	}
	return All[i]
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "veil.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const practice = `# the practice's settings
out = "release2"
layout = "{patient}_{phase}_*"
settle = "0s"
workers = 3
exclude = ["*.MOV", "*.AAE"]
`

func TestPrecedence(t *testing.T) {
	p := writeConfig(t, practice)
	src, err := Load(env(ConfigEnv, p, "VEIL_VAULT", "vault", "VEIL_WORKERS", "8"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if src.File != p {
		t.Errorf("File = %q, want %q", src.File, p)
	}
	got := map[string]Value{}
	for _, v := range src.Resolve(map[string][]string{"layout": {"{patient}/{phase}/*"}}) {
		got[v.Key] = v
	}
	for _, tc := range []struct {
		key    string
		vals   []string
		source Source
	}{
		{"vault", []string{"vault"}, FromEnv},
		{"workers", []string{"8"}, FromEnv}, // the environment wins over the file
		{"out", []string{"release2"}, FromFile},
		{"settle", []string{"0s"}, FromFile},
		{"exclude", []string{"*.MOV", "*.AAE"}, FromFile},
		{"layout", []string{"{patient}/{phase}/*"}, FromFlag}, // a flag wins over the file
		{"identity", nil, FromDefault},
	} {
		v := got[tc.key]
		if !slices.Equal(v.Values, tc.vals) || v.Source != tc.source {
			t.Errorf("%s = %q from %s, want %q from %s", tc.key, v.Values, v.Source, tc.vals, tc.source)
		}
	}
	if n := len(got); n != len(All) {
		t.Errorf("Resolve gave %d settings, want %d", n, len(All))
	}
}

func TestEnvList(t *testing.T) {
	src, err := Load(env("VEIL_EXCLUDE", "*.mov"+string(os.PathListSeparator)+"Scans/*", "VEIL_LAYOUT", "a"+string(os.PathListSeparator)+"b"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if vals, from := src.Lookup(setting(t, "exclude")); !slices.Equal(vals, []string{"*.mov", "Scans/*"}) || from != FromEnv {
		t.Errorf("exclude = %q from %s", vals, from)
	}
	// a setting that is not a list keeps the separator
	if vals, _ := src.Lookup(setting(t, "layout")); len(vals) != 1 {
		t.Errorf("layout = %q, want one value", vals)
	}
}

func TestLocations(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.toml")
	if err := os.WriteFile(user, []byte(`vault = "v"`), 0o600); err != nil {
		t.Fatal(err)
	}
	// the first location that exists is read; a missing one is no error
	src, err := Load(env(), []string{filepath.Join(dir, "missing.toml"), user})
	if err != nil {
		t.Fatal(err)
	}
	if vals, from := src.Lookup(setting(t, "vault")); src.File != user || from != FromFile || !slices.Equal(vals, []string{"v"}) {
		t.Errorf("file %q: vault = %q from %s", src.File, vals, from)
	}
	src, err = Load(env(), []string{filepath.Join(dir, "missing.toml")})
	if err != nil || src.File != "" {
		t.Errorf("no config file: File %q, err %v", src.File, err)
	}
	if locs := Locations("/home/u/.config"); !slices.Equal(locs, []string{"/etc/veil/veil.toml", filepath.Join("/home/u/.config", "veil", "veil.toml")}) {
		t.Errorf("Locations = %q", locs)
	}
	if locs := Locations(""); len(locs) != 1 {
		t.Errorf("Locations without a user config dir = %q", locs)
	}
}

func TestConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.toml")
	if _, err := Load(env(ConfigEnv, missing), nil); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("VEIL_CONFIG naming no file: %v", err)
	}
	for _, tc := range []struct{ text, want string }{
		{`valut = "vault"`, `unknown setting "valut"`},
		{`workers = 1.5`, "workers: want a string, a whole number or a list of strings"},
		{`exclude = ["a", 1]`, "exclude: want a list of strings"},
		{`vault = `, "config file"},
	} {
		_, err := Load(env(ConfigEnv, writeConfig(t, tc.text)), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestWhere(t *testing.T) {
	p := writeConfig(t, practice)
	src, err := Load(env(ConfigEnv, p), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := setting(t, "workers")
	if got := src.Where(w, FromFile); got != p+": workers" {
		t.Errorf("Where file = %q", got)
	}
	if got := src.Where(w, FromEnv); got != "VEIL_WORKERS" {
		t.Errorf("Where env = %q", got)
	}
}

func TestAppliesTo(t *testing.T) {
	out := setting(t, "out")
	if !out.AppliesTo("ingest") || out.AppliesTo("verify") {
		t.Error("out applies to ingest and watch only")
	}
	if !setting(t, "vault").AppliesTo("verify") {
		t.Error("vault applies to every command")
	}
}
