package gallery

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium finds a Chromium to drive, or skips: CI installs Debian's
// chromium (.ci/run), so there a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium): the browser test does not run")
	return ""
}

// browse starts a headless Chromium with the flags that let it run as root
// in a container, with a profile of its own and no network chatter.
func browse(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: path}).String()
}

// allImagesLoaded waits until every <img> of the page has loaded or
// failed, and gives their count when all have pixels, 0 otherwise: a
// missing file or a CSP-blocked image has a natural width of 0.
const allImagesLoaded = `Promise.all(Array.from(document.images).map(i => i.complete ? null :
	new Promise(r => { i.addEventListener("load", r); i.addEventListener("error", r) })))
	.then(() => Array.from(document.images).every(i => i.naturalWidth > 0) ? document.images.length : 0)`

// TestBrowser opens the built site from disk in headless Chromium and uses
// it as a person would: every image loads, the filters and the keyboard
// work on the index, and on a subject page the keys change the compared
// photo, switch to the overlay and move its slider. Finally the CSP: the
// same inline script runs in a page without the policy and is blocked in
// a page with it.
func TestBrowser(t *testing.T) {
	ctx := browse(t)
	fx := newFixture(t, samples)
	site := filepath.Join(t.TempDir(), "site")
	heif, _ := exec.LookPath("heif-convert")
	build(t, Options{Release: fx.dir, Site: site, HEIFConvert: heif})

	do(t, ctx, "index", chromedp.Navigate(fileURL(filepath.Join(site, "index.html"))))
	if eval[int](t, ctx, allImagesLoaded) == 0 {
		t.Fatal("index: an image did not load")
	}
	// The script is a file of the site: it ran under the CSP, from file://.
	if shown := eval[string](t, ctx, shownText); shown != "2 of 2 subjects shown" {
		t.Fatalf("index: filter status %q", shown)
	}
	do(t, ctx, "index filter", chromedp.SetValue(chromedp.ID("phase"), "followup"))
	eval[chromedp.Void](t, ctx, `document.getElementById("phase").dispatchEvent(new Event("change"))`)
	if shown := eval[string](t, ctx, shownText); shown != "1 of 2 subjects shown" {
		t.Errorf("phase filter: %q", shown)
	}
	do(t, ctx, "index keys", chromedp.KeyEvent(kb.ArrowRight))
	if focused := eval[string](t, ctx, `document.activeElement.getAttribute("href") || ""`); focused != pageDir+"/"+fx.subjects[0].String()+".html" {
		t.Errorf("→ on the index focused %q, want the one subject with a follow-up", focused)
	}

	const srcB = `document.getElementById("imgB").getAttribute("src")`
	const clip = `document.querySelector("figure.b").style.clipPath`
	do(t, ctx, "subject", chromedp.Navigate(fileURL(filepath.Join(site, pageDir, fx.subjects[0].String()+".html"))))
	if eval[int](t, ctx, allImagesLoaded) == 0 {
		t.Fatal("subject page: an image did not load")
	}
	// Right starts on the latest follow-up; ← steps back to the after.
	if got, want := eval[string](t, ctx, srcB), "../"+outputs(fx.rows[1].Photo)[0]; got != want {
		t.Errorf("right photo at first %q, want the follow-up %q", got, want)
	}
	do(t, ctx, "←", chromedp.KeyEvent(kb.ArrowLeft))
	if got, want := eval[string](t, ctx, srcB), "../"+outputs(fx.rows[2].Photo)[0]; got != want {
		t.Errorf("after ←, right photo %q, want the after %q", got, want)
	}
	if eval[int](t, ctx, allImagesLoaded) == 0 {
		t.Error("the photo chosen by ← did not load")
	}
	do(t, ctx, "o", chromedp.KeyEvent("o"))
	if !eval[bool](t, ctx, `document.getElementById("compare").classList.contains("overlay")`) {
		t.Error("O did not switch to the overlay")
	}
	do(t, ctx, "..", chromedp.KeyEvent("."), chromedp.KeyEvent("."))
	if got := eval[string](t, ctx, clip); !strings.Contains(got, "60%") {
		t.Errorf("slider after two '.': clip-path %q, want 60%%", got)
	}
	// The slider also follows the mouse: a value set on the range input
	// moves the overlay's edge.
	do(t, ctx, "slider", chromedp.SetValue(chromedp.ID("slider"), "20"))
	eval[chromedp.Void](t, ctx, `document.getElementById("slider").dispatchEvent(new Event("input"))`)
	if got := eval[string](t, ctx, clip); !strings.Contains(got, "20%") {
		t.Errorf("slider at 20: clip-path %q", got)
	}

	// The CSP blocks inline script. The control page without the policy
	// shows that the script would run, so the check can fail.
	page, err := os.ReadFile(filepath.Join(site, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	inline := `<script>document.documentElement.dataset.inline = "ran"</script></body>`
	injected := strings.Replace(string(page), "</body>", inline, 1)
	control := strings.Replace(injected, `<meta http-equiv="Content-Security-Policy" content="`+CSP+`">`, "", 1)
	os.WriteFile(filepath.Join(site, "injected.html"), []byte(injected), 0o644)
	os.WriteFile(filepath.Join(site, "control.html"), []byte(control), 0o644)
	const ran = `document.documentElement.dataset.inline || ""`
	do(t, ctx, "control", chromedp.Navigate(fileURL(filepath.Join(site, "control.html"))))
	if eval[string](t, ctx, ran) != "ran" {
		t.Fatal("control page: the inline script did not run without the CSP")
	}
	do(t, ctx, "injected", chromedp.Navigate(fileURL(filepath.Join(site, "injected.html"))))
	if eval[string](t, ctx, ran) != "" {
		t.Error("the CSP did not block an inline script")
	}
	if eval[string](t, ctx, shownText) == "" {
		t.Error("the site's own script was blocked along with the inline one")
	}
}

const shownText = `document.getElementById("shown").textContent`

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}
