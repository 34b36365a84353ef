package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/vault"
)

// The tests of veil watch run the real command as a separate process (the
// test binary, which acts as veil under testscript.Main) on real files, and
// stop it with SIGTERM as systemd does. They keep to what only a process
// shows: signals, real file system events and timing, the log it prints,
// and other veil processes on the same vault. The scheduler's behaviour
// (settle, debounce, rescans, the lock per pass) is tested in-process by
// ingest/watch_test.go.

// watchEnv is a vault, an inbox and a release folder, and every file the
// test put into the inbox.
type watchEnv struct {
	dir, vault, inbox, release, cust, pass string
	files                                  map[string]string // inbox-relative path -> sha256
	rng                                    *rand.Rand
}

func newWatchEnv(t *testing.T) *watchEnv {
	t.Helper()
	dir := t.TempDir()
	e := &watchEnv{dir: dir, vault: filepath.Join(dir, "vault"), inbox: filepath.Join(dir, "inbox"),
		release: filepath.Join(dir, "release"), cust: filepath.Join(dir, "custodian.age"),
		pass: "correct horse battery staple", files: map[string]string{}, rng: rand.New(rand.NewPCG(7, uint64(len(t.Name()))))}
	if _, err := custody.Init(e.vault, e.cust, vault.InitOptions{Passphrase: []byte(e.pass)}); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(e.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

// photo returns a small JPEG whose bytes no other call returns.
func (e *watchEnv) photo() []byte {
	img := image.NewGray(image.Rect(0, 0, 32+e.rng.IntN(32), 24+e.rng.IntN(24)))
	for i := range img.Pix {
		img.Pix[i] = uint8(e.rng.IntN(256))
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 75})
	return b.Bytes()
}

// record notes a file put into the inbox at rel (also by a rename).
func (e *watchEnv) record(rel string, data []byte) {
	sum := sha256.Sum256(data)
	e.files[rel] = hex.EncodeToString(sum[:])
}

// drop writes n new photos under folder (patient/phase) of the inbox.
func (e *watchEnv) drop(t *testing.T, folder string, n int) {
	t.Helper()
	d := filepath.Join(e.inbox, filepath.FromSlash(folder))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for range n {
		data := e.photo()
		name := fmt.Sprintf("IMG_%05d.jpg", len(e.files))
		if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		e.record(folder+"/"+name, data)
	}
}

// watchProc is a running veil watch --json.
type watchProc struct {
	cmd    *exec.Cmd
	events chan map[string]any
	stderr *lockedBuffer
	waited chan error
	seen   []map[string]any
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func veilPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("veil") // the test binary, set up by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *watchEnv) startWatch(t *testing.T, extra ...string) *watchProc {
	t.Helper()
	args := append([]string{"watch", "--vault", e.vault, "--out", e.release, "--json", "--workers", "4"}, extra...)
	cmd := exec.Command(veilPath(t), append(args, e.inbox)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &watchProc{cmd: cmd, events: make(chan map[string]any, 100000), stderr: &lockedBuffer{}, waited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = map[string]any{"event": "not-json", "message": sc.Text()}
			}
			p.events <- ev
		}
		close(p.events)
		p.waited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// until reads events until cond holds for one, and returns it.
func (p *watchProc) until(t *testing.T, timeout time.Duration, what string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				t.Fatalf("veil watch ended while waiting for %s\nstderr:\n%s", what, p.stderr)
			}
			p.seen = append(p.seen, ev)
			if ev["event"] == "not-json" {
				t.Errorf("veil watch --json printed a line that is not JSON: %s", ev["message"])
			}
			if cond(ev) {
				return ev
			}
		case <-deadline.C:
			t.Fatalf("no %s within %v\nstderr:\n%s", what, timeout, p.stderr)
		}
	}
}

// untilTaken waits until n more files were committed (ingested, duplicate)
// or quarantined.
func (p *watchProc) untilTaken(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	if n <= 0 {
		return
	}
	got := 0
	p.until(t, timeout, fmt.Sprintf("%d files taken", n), func(ev map[string]any) bool {
		switch ev["event"] {
		case "ingested", "duplicate", "quarantined":
			got++
		}
		return got == n
	})
}

// stop sends SIGTERM and returns the exit status and how long the exit took.
func (p *watchProc) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	hung := time.AfterFunc(20*time.Second, func() { p.cmd.Process.Kill() })
	for ev := range p.events {
		p.seen = append(p.seen, ev)
	}
	err := <-p.waited
	took := time.Since(start)
	if !hung.Stop() {
		t.Fatalf("veil watch did not exit within 20 s of SIGTERM\nstderr:\n%s", p.stderr)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), took
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, took
}

// account checks what SPEC promises once watch has stopped: verify
// --release passes, and every file put into the inbox is exactly one of:
// logged once and gone from the inbox, quarantined, or still in the inbox
// and not logged. It returns how many files are still in the inbox.
func (e *watchEnv) account(t *testing.T) (left int) {
	t.Helper()
	if out, err := exec.Command(veilPath(t), "verify", "--vault", e.vault, "--release", e.release).CombinedOutput(); err != nil {
		t.Fatalf("veil verify --release: %v\n%s", err, out)
	}
	cust, err := vault.LoadCustodian(e.cust, []byte(e.pass))
	if err != nil {
		t.Fatal(err)
	}
	lt, err := tallyLog(filepath.Join(e.vault, "log"), e.inbox, cust.Identity)
	if err != nil {
		t.Fatal(err)
	}
	logged, quarantined, ingested, photos := lt.logged, lt.quarantined, lt.ingested, lt.ingests
	for rel, got := range lt.shaOf {
		if want, ok := e.files[rel]; ok && got != want {
			t.Errorf("%s: logged with sha256 %s, but the file put into the inbox has %s (taken half-written?)", rel, got, want)
		}
	}
	for rel, sum := range e.files {
		inInbox := exists(filepath.Join(e.inbox, filepath.FromSlash(rel)))
		inQuarantine := exists(filepath.Join(e.inbox, inbox.QuarantineDir, filepath.FromSlash(rel)))
		switch {
		case logged[rel] == 1 && !inInbox && !inQuarantine && ingested[sum] == 1:
		case quarantined[rel] == 1 && inQuarantine && !inInbox && logged[rel] == 0:
		case logged[rel] == 0 && quarantined[rel] == 0 && inInbox:
			left++
		default:
			t.Errorf("%s: logged %d, quarantined %d, its bytes ingested %d times; in the inbox %v, in quarantine %v",
				rel, logged[rel], quarantined[rel], ingested[sum], inInbox, inQuarantine)
		}
	}
	released := 0
	filepath.WalkDir(e.release, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name() != "index.csv" {
			released++
		}
		return nil
	})
	if released != photos {
		t.Errorf("%d files in the release folder for %d ingest records", released, photos)
	}
	return left
}

// TestWatchSlowCopy writes a 12 MP photo in chunks over three seconds, with
// pauses shorter than --settle, as a slow network copy does: watch must not
// take it half-written, and must take it within --settle + 1 s of the last
// byte.
func TestWatchSlowCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 12 MP photo slowly")
	}
	e := newWatchEnv(t)
	gen := filepath.Join(e.dir, "gen")
	cmd := exec.Command("go", "run", "./scripts/gencorpus", "-n", "1", "-size", "4032x3024", "-o", gen)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gencorpus: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(gen, "IMG_00000.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	const settle = 500 * time.Millisecond
	w := e.startWatch(t, "--settle", settle.String())
	w.until(t, 10*time.Second, "ready", func(ev map[string]any) bool { return ev["event"] == "ready" })

	rel := "Jane Doe/post-op/IMG_4032.jpg"
	os.MkdirAll(filepath.Join(e.inbox, "Jane Doe", "post-op"), 0o755)
	f, err := os.Create(filepath.Join(e.inbox, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	const chunks = 30
	for i := range chunks {
		if i > 0 {
			time.Sleep(100 * time.Millisecond) // the slow copier, not synchronisation
		}
		if _, err := f.Write(data[i*len(data)/chunks : (i+1)*len(data)/chunks]); err != nil {
			t.Fatal(err)
		}
	}
	written := time.Now()
	f.Close()
	e.record(rel, data)

	ev := w.until(t, 10*time.Second, "the photo taken", func(ev map[string]any) bool {
		return ev["event"] == "ingested" || ev["event"] == "quarantined"
	})
	latency := time.Since(written)
	if ev["event"] != "ingested" || ev["width"] != 4032.0 || ev["bytes"] != float64(len(data)) {
		t.Fatalf("the slowly written photo gave %v\nstderr:\n%s", ev, w.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.release, ev["subject"].(string), ev["photo"].(string)+".jpg")); err != nil {
		t.Fatalf("ingested, but not in the release folder: %v", err)
	}
	t.Logf("%d-byte 12 MP photo in the release folder %v after its last byte was written (settle %v)", len(data), latency.Round(time.Millisecond), settle)
	if latency > settle+time.Second {
		t.Errorf("latency %v, want at most settle + 1 s = %v", latency, settle+time.Second)
	}
	if code, _ := w.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, w.stderr)
	}
	for _, ev := range w.seen {
		if ev["event"] == "quarantined" || ev["event"] == "ingested" && ev["bytes"] != float64(len(data)) {
			t.Errorf("half-written file taken: %v", ev)
		}
	}
	if left := e.account(t); left != 0 {
		t.Errorf("%d files left in the inbox", left)
	}
}

// TestWatchStopMidBurstAndRestart stops watch with SIGTERM while it works
// through a burst, adds files while it is stopped, and starts it again:
// the first run exits 0 within seconds with every file committed once or
// still in the inbox, and the second takes the rest at start.
func TestWatchStopMidBurstAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs veil watch on 1000 files")
	}
	e := newWatchEnv(t)
	for i := range 10 {
		e.drop(t, fmt.Sprintf("Patient %d/after", i), 100)
	}
	w := e.startWatch(t, "--settle", "200ms", "--workers", "2")
	w.until(t, 20*time.Second, "a first file ingested", func(ev map[string]any) bool { return ev["event"] == "ingested" })
	code, took := w.stop(t)
	if code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, w.stderr)
	}
	if took > 5*time.Second {
		t.Errorf("took %v to exit after SIGTERM", took)
	}
	left := e.account(t)
	t.Logf("SIGTERM mid-burst: exited 0 in %v; %d of 1000 files committed, %d left in the inbox", took.Round(time.Millisecond), 1000-left, left)
	if left == 0 {
		t.Log("the burst was finished before SIGTERM arrived: the interruption was not tested")
	}

	// Arrivals while stopped are taken at start, without any event.
	e.drop(t, "Patient 0/followup", 20)
	w = e.startWatch(t, "--settle", "200ms", "--rescan", "1h")
	w.until(t, 30*time.Second, "ready", func(ev map[string]any) bool { return ev["event"] == "ready" })
	if code, _ := w.stop(t); code != 0 {
		t.Fatalf("second run: exit %d after SIGTERM\n%s", code, w.stderr)
	}
	if left := e.account(t); left != 0 {
		t.Errorf("%d files left in the inbox after the restart", left)
	}
}

// TestWatchNoticesOtherWriter runs veil ingest on another inbox of the same
// vault while watch is idle between passes: watch's next pass must carry on
// from the log as the other writer left it, not append to a log it no
// longer knows the end of.
func TestWatchNoticesOtherWriter(t *testing.T) {
	e := newWatchEnv(t)
	e.drop(t, "Jane Doe/before", 5)
	w := e.startWatch(t, "--settle", "200ms")
	w.untilTaken(t, 5, 10*time.Second)
	other := filepath.Join(e.dir, "scanner-inbox")
	os.MkdirAll(filepath.Join(other, "Bob Roe", "after"), 0o755)
	for i := range 5 {
		os.WriteFile(filepath.Join(other, "Bob Roe", "after", fmt.Sprintf("S%d.jpg", i)), e.photo(), 0o644)
	}
	if out, err := exec.Command(veilPath(t), "ingest", "--vault", e.vault, "--out", e.release, "--settle", "0", other).CombinedOutput(); err != nil {
		t.Fatalf("veil ingest while watch is idle: %v\n%s", err, out)
	}
	e.drop(t, "Jane Doe/after", 5)
	w.untilTaken(t, 5, 10*time.Second)
	if code, _ := w.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, w.stderr)
	}
	if left := e.account(t); left != 0 {
		t.Errorf("%d files left in the inbox", left)
	}
}

// TestWatchAndIngestTogether starts watch and veil ingest at the same
// moment on one inbox: whichever gets the vault lock first works, the other
// says who holds it (ingest fails, watch waits), and no file is taken twice.
func TestWatchAndIngestTogether(t *testing.T) {
	e := newWatchEnv(t)
	for i := range 3 {
		e.drop(t, fmt.Sprintf("Patient %d/before", i), 100)
	}
	type result struct {
		out  []byte
		err  error
		json bytes.Buffer
	}
	res := make(chan *result, 1)
	ing := exec.Command(veilPath(t), "ingest", "--vault", e.vault, "--out", e.release, "--settle", "0", "--json", e.inbox)
	go func() {
		r := &result{}
		var stderr bytes.Buffer
		ing.Stdout, ing.Stderr = &r.json, &stderr
		r.err = ing.Run()
		r.out = stderr.Bytes()
		res <- r
	}()
	w := e.startWatch(t, "--settle", "0")
	r := <-res
	if r.err != nil {
		// The nightly run waits for watch's pass (--wait) instead of failing.
		t.Fatalf("veil ingest: %v\n%s", r.err, r.out)
	}
	byIngest, ingestWaited := 0, false
	sc := bufio.NewScanner(&r.json)
	for sc.Scan() {
		var ev map[string]any
		json.Unmarshal(sc.Bytes(), &ev)
		switch ev["event"] {
		case "summary":
			byIngest = int(ev["ingested"].(float64))
		case "waiting":
			ingestWaited = true
			if msg, _ := ev["message"].(string); !strings.Contains(msg, `vault is locked by "veil watch" (pid `) {
				t.Errorf("ingest waited without naming watch as the holder: %q", msg)
			}
		}
	}
	t.Logf("ingest took %d files; it waited for watch: %v", byIngest, ingestWaited)
	w.untilTaken(t, 300-byIngest, 20*time.Second)
	if code, _ := w.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, w.stderr)
	}
	waited := false
	for _, ev := range w.seen {
		waited = waited || ev["event"] == "waiting" && ev["holder"] == "veil ingest"
	}
	t.Logf("watch waited for ingest: %v", waited)
	if left := e.account(t); left != 0 {
		t.Errorf("%d files left in the inbox", left)
	}
}

// TestWatchIdleCPU checks that a watch with nothing to do uses under 1% of
// a CPU: no polling.
func TestWatchIdleCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for 3 s")
	}
	e := newWatchEnv(t)
	e.drop(t, "Jane Doe/before", 3)
	w := e.startWatch(t, "--settle", "200ms")
	w.until(t, 10*time.Second, "ready", func(ev map[string]any) bool { return ev["event"] == "ready" })
	before := cpuTicks(t, w.cmd.Process.Pid)
	start := time.Now()
	time.Sleep(3 * time.Second) // the idle period being measured
	used := cpuTicks(t, w.cmd.Process.Pid) - before
	elapsed := time.Since(start)
	// /proc counts in clock ticks of 10 ms (USER_HZ = 100 on Linux).
	frac := float64(used) * 0.01 / elapsed.Seconds()
	t.Logf("idle: %d ticks of CPU in %v = %.2f%%", used, elapsed.Round(time.Millisecond), 100*frac)
	if frac >= 0.01 {
		t.Errorf("idle watch used %.2f%% CPU, want under 1%%", 100*frac)
	}
	if code, _ := w.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, w.stderr)
	}
	e.account(t)
}

// cpuTicks returns utime+stime of a process from /proc/PID/stat.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// TestWatchHumanLog checks the default output: timestamped lines, a line per
// pass that did something, problems on stderr, and a summary when stopped.
func TestWatchHumanLog(t *testing.T) {
	e := newWatchEnv(t)
	e.drop(t, "Jane Doe/before", 2)
	os.MkdirAll(filepath.Join(e.inbox, "Jane Doe", "weird"), 0o755)
	os.WriteFile(filepath.Join(e.inbox, "Jane Doe", "weird", "x.jpg"), e.photo(), 0o644)
	cmd := exec.Command(veilPath(t), "watch", "--vault", e.vault, "--out", e.release, "--settle", "0", e.inbox)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	deadline := time.After(10 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("veil watch ended:\n%s\n%s", strings.Join(got, "\n"), stderr.String())
			}
			got = append(got, l)
			ready = strings.Contains(l, "the inbox is caught up")
		case <-deadline:
			t.Fatalf("not ready within 10 s:\n%s\n%s", strings.Join(got, "\n"), stderr.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for l := range lines {
		got = append(got, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	stamp := `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) ` // RFC 3339: stdout is a log here
	for _, want := range []string{
		stamp + `veil: watching .*inbox \(settle 0s, rescan 1m0s\)$`,
		stamp + `ingested 2, duplicates 0, quarantined 1, [0-9.]+ kB, [0-9.]+ s$`,
		stamp + `veil: the inbox is caught up; watching for new photos$`,
		stamp + `stopped; since start: ingested 2, duplicates 0, quarantined 1, `,
	} {
		if !slicesContainMatch(got, want) {
			t.Errorf("stdout has no line matching %s:\n%s", want, strings.Join(got, "\n"))
		}
	}
	// stderr is not a terminal: a log, which names the file by its ticket.
	if !regexp.MustCompile(`(?m)` + stamp + `veil: quarantined a file \(phase\), ticket q-[0-9a-f]{10}: its reason file in .*\.quarantine says which and why$`).MatchString(strings.TrimSpace(stderr.String())) {
		t.Errorf("stderr does not report the quarantined file:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "Jane") {
		t.Errorf("stderr names the patient:\n%s", stderr.String())
	}
}

func slicesContainMatch(lines []string, re string) bool {
	r := regexp.MustCompile(re)
	for _, l := range lines {
		if r.MatchString(l) {
			return true
		}
	}
	return false
}
