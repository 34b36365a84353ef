package ingest

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int64
	}{
		{"1000", 1000},
		{"200MB", 200e6},
		{"200mb", 200e6},
		{" 1.5 GB ", 1.5e9},
		{"64kB", 64e3},
		{"64k", 64e3},
		{"2KiB", 2048},
		{"1MiB", 1 << 20},
		{"1GiB", 1 << 30},
		{"10b", 10},
	} {
		if got, err := ParseSize(tc.s); err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.s, got, err, tc.want)
		}
	}
	for _, s := range []string{"", "lots", "0", "-1MB", "MB", "1TB", "9e30GB", "NaN"} {
		if got, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", s, got)
		}
	}
}
