package ingest

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a byte count for Options.MaxSize: 1000, 200MB, 1.5GB,
// 64kB (powers of 1000, as sizes are shown; KiB, MiB, GiB for powers of
// 1024).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}}
	mult := 1.0
	low := strings.ToLower(t)
	for _, u := range units {
		if strings.HasSuffix(low, u.suffix) {
			mult, t = u.mult, strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || !(n > 0) || n*mult > 1<<62 { // !(n > 0) refuses NaN too
		return 0, fmt.Errorf("%q is not a size such as 200MB", s)
	}
	return int64(n * mult), nil
}
