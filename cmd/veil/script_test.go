package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the veil command inside txtar
// scripts, so scripts exercise the real CLI: flags, output and exit codes.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"veil": main,
	})
}

// TestScripts runs every CLI scenario in testdata/script/*.txtar. Each
// script starts with the sample photos of the repository's testdata/photos
// in $WORK/photos.
func TestScripts(t *testing.T) {
	photos, err := filepath.Abs(filepath.Join("..", "..", "testdata", "photos"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			return os.CopyFS(filepath.Join(env.WorkDir, "photos"), os.DirFS(photos))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
		},
	})
}

// cmdExitcode runs "exitcode N veil ARGS..." and checks that veil exits with
// status N, the CLI contract's code; stdout and stderr stay available to the
// next stdout/stderr checks.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
