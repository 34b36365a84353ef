package vault

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// helperEnv makes the test binary act as a separate vault writer process, so
// that locks and crashes are tested across real processes.
const helperEnv = "VEIL_VAULT_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Getenv("VEIL_VAULT_TEST_DIR")))
	}
	// A real custodian file costs about a second of scrypt; tests that do
	// not measure that use a small work factor (TestCustodianWorkFactor
	// checks the real one).
	scryptLogN = 10
	os.Exit(m.Run())
}

// runHelper is the body of a helper process. It reports progress on stdout
// one line at a time and waits for its stdin to close.
func runHelper(mode, dir string) int {
	ctx := context.Background()
	switch mode {
	case "lock":
		l, err := AcquireLock(ctx, dir, "veil watch", 0)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		if err := l.Release(); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		return 0
	case "put":
		v, err := Open(dir)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		_, err = v.Put(ctx, &stallingReader{n: 3 << 20})
		fmt.Println("error: put returned:", err)
		return 1
	}
	fmt.Println("error: unknown helper mode", mode)
	return 2
}

// stallingReader yields n bytes, then says "ready" on stdout and blocks
// forever: the helper is then in the middle of a Put, waiting to be killed.
type stallingReader struct{ n int }

func (r *stallingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		fmt.Println("ready")
		select {}
	}
	n := min(len(p), r.n)
	for i := range p[:n] {
		p[i] = byte(i)
	}
	r.n -= n
	return n, nil
}

// helper is a running helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startHelper(t *testing.T, mode, dir string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "VEIL_VAULT_TEST_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		h.cmd.Process.Kill()
		h.cmd.Wait()
	})
	return h
}

// expect reads the helper's next line and fails unless it is want.
func (h *helper) expect(t *testing.T, want string) {
	t.Helper()
	line, err := h.out.ReadString('\n')
	if err != nil || line != want+"\n" {
		t.Fatalf("helper said %q (%v), want %q", line, err, want)
	}
}

// kill SIGKILLs the helper and waits until it is gone.
func (h *helper) kill(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait() // reaped: kill(pid, 0) now fails with ESRCH
}
