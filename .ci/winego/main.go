// Command winego stands in for the go command inside Wine, where photo's
// tests ask `go list -m -json MODULE`, `go mod download -json MODULE` and
// `go env GOROOT` to find their sample photos (in the module cache and
// GOROOT). Wine cannot wait for a Linux go process, so .ci/run asks the real
// go command beforehand and passes the answers in the environment:
// WINEGO_GOROOT, and WINEGO_MOD_<module path with every non-alphanumeric
// byte as _> holding the module's folder, both as Windows paths (Z:\...).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 2 && args[0] == "env" && args[1] == "GOROOT":
		answer(os.Getenv("WINEGO_GOROOT"))
		fmt.Println(os.Getenv("WINEGO_GOROOT"))
	case len(args) == 4 && (args[0] == "list" && args[1] == "-m" || args[0] == "mod" && args[1] == "download") && args[2] == "-json":
		dir := os.Getenv("WINEGO_MOD_" + envName(args[3]))
		answer(dir)
		json.NewEncoder(os.Stdout).Encode(struct{ Dir string }{dir})
	default:
		fmt.Fprintf(os.Stderr, "winego: no answer for go %s\n", strings.Join(args, " "))
		os.Exit(2)
	}
}

func answer(s string) {
	if s == "" {
		fmt.Fprintf(os.Stderr, "winego: no answer for go %s in the environment\n", strings.Join(os.Args[1:], " "))
		os.Exit(1)
	}
}

// envName turns a module path into the tail of its variable name.
func envName(module string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, module)
}
