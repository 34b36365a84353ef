package gallery

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CSP is the Content-Security-Policy of every page: nothing but the site's
// own images, stylesheet and script; no inline script or style, no
// connection, no form, no frame. A page that somehow carried injected
// markup still could not run it or send anything anywhere.
const CSP = "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; " +
	"base-uri 'none'; form-action 'none'"

//go:embed assets/gallery.css assets/gallery.js
var assets embed.FS

var pageTemplates = template.Must(template.New("").Parse(pageHTML))

// pageHTML holds the two page templates. Links are relative (root is ""
// for the index and "../" for a subject page) so the site works from
// file:// and from any folder of a web server.
const pageHTML = `{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="` + CSP + `">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{.Root}}assets/gallery.css">
<script src="{{.Root}}assets/gallery.js" defer></script>
</head>
{{end}}

{{define "index"}}{{template "head" .}}<body data-page="index">
<header>
<h1>Before/after gallery</h1>
<p class="note">{{len .Subjects}} subjects, {{.Photos}} photos, coded: names, dates and places are not in this site. A face photo still identifies a person: share it only with those allowed to see the release.</p>
<form id="filters" class="filters">
<label>Phase <select id="phase">
<option value="">any</option>
{{range .PhaseWords}}<option value="{{.}}">{{.}}</option>
{{end}}</select></label>
<label><input type="checkbox" id="paired"> only subjects with a before and an after</label>
<span id="shown" aria-live="polite"></span>
</form>
<p class="keys">Keys: ← → move between subjects, Enter opens one.</p>
</header>
<main>
<ul class="cards">
{{range .Subjects}}<li class="card" data-phases="{{.PhaseWords}}" data-paired="{{.HasPair}}">
<a href="{{.Page}}">
<span class="pair">{{with .Before}}<img src="{{.Thumb}}" alt="{{.Label}}">{{else}}<span class="none">no image</span>{{end}}{{with .After}}<img src="{{.Thumb}}" alt="{{.Label}}">{{end}}</span>
<code>{{.Code}}</code>
<span class="phases">{{range $i, $p := .Phases}}{{if $i}} · {{end}}{{$p}}{{end}}</span>
</a>
</li>
{{end}}</ul>
</main>
</body>
</html>
{{end}}

{{define "subject"}}{{template "head" .}}<body data-page="subject">
{{with .Subject}}<header>
<nav><a href="../index.html" id="up">All subjects</a>
{{with .Prev}}<a href="../{{.Page}}" id="prev" rel="prev">← previous subject</a>{{end}}
{{with .Next}}<a href="../{{.Page}}" id="next" rel="next">next subject →</a>{{end}}</nav>
<h1>Subject <code>{{.Code}}</code></h1>
<p class="keys">Keys: ← → change the right photo, Shift+← → the left one, O switches side by side / overlay, , . move the slider, [ ] previous / next subject.</p>
</header>
<main>
{{if $.PreviewA}}<section id="compare" class="compare side" aria-label="comparison">
<div class="controls">
<label>Left <select id="pickA">{{range $i, $p := .Photos}}{{if $p.Preview}}<option value="{{$i}}"{{if eq $p.Row.Photo $.A}} selected{{end}}>{{$p.Label}} · {{$p.Row.Photo}}</option>{{end}}{{end}}</select></label>
<label>Right <select id="pickB">{{range $i, $p := .Photos}}{{if $p.Preview}}<option value="{{$i}}"{{if eq $p.Row.Photo $.B}} selected{{end}}>{{$p.Label}} · {{$p.Row.Photo}}</option>{{end}}{{end}}</select></label>
<button type="button" id="mode">Overlay</button>
<label class="slider">Slider <input type="range" id="slider" min="0" max="100" value="50"></label>
</div>
<div class="stage">
<figure class="a"><img id="imgA" src="{{$.PreviewA}}" alt="left photo"><figcaption id="capA"></figcaption></figure>
<figure class="b"><img id="imgB" src="{{$.PreviewB}}" alt="right photo"><figcaption id="capB"></figcaption></figure>
</div>
</section>{{end}}
<section class="photos" aria-label="photos">
<ol>
{{range $i, $p := .Photos}}<li id="p-{{$p.Row.Photo}}" class="photo" data-index="{{$i}}" data-label="{{$p.Label}}" data-code="{{$p.Row.Photo}}"{{if $p.Preview}} data-preview="../{{$p.Preview}}"{{end}}>
{{if $p.Thumb}}<a href="../{{$p.Preview}}"><img src="../{{$p.Thumb}}" alt="{{$p.Label}}"></a>{{else}}<div class="placeholder"><strong>{{$p.FormatName}}</strong><span>{{$p.Missing}}</span><a href="../{{$p.File}}">open the released file</a></div>{{end}}
<p><strong>{{$p.Label}}</strong><br><code>{{$p.Row.Photo}}</code><br>{{$p.Row.Width}}×{{$p.Row.Height}} {{$p.FormatName}} · <a href="../{{$p.File}}">released file</a></p>
</li>
{{end}}</ol>
</section>
{{end}}</main>
</body>
</html>
{{end}}`

type indexData struct {
	Title      string
	Root       string
	Subjects   []*subjectView
	Photos     int
	PhaseWords []string
}

type subjectData struct {
	Title              string
	Root               string
	Subject            *subjectView
	A, B               any    // the photo codes compared first
	PreviewA, PreviewB string // their previews, so the page compares without script too
}

// writePages writes the stylesheet, the script, the index and every
// subject page whose content changed since the last build.
func writePages(site string, subjects []*subjectView, man *manifest) error {
	for _, name := range []string{"assets/gallery.css", "assets/gallery.js"} {
		b, err := assets.ReadFile(name)
		if err != nil {
			return err
		}
		if err := writePage(site, name, b, man); err != nil {
			return err
		}
	}
	photos, words := 0, []string{}
	for _, s := range subjects {
		photos += len(s.Photos)
		for _, w := range strings.Fields(s.PhaseWords()) {
			if !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
	}
	slices.SortStableFunc(words, func(a, b string) int { return cmp.Compare(phaseRank(a), phaseRank(b)) })
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, "index", indexData{
		Title: "Before/after gallery", Subjects: subjects, Photos: photos, PhaseWords: words,
	}); err != nil {
		return err
	}
	if err := writePage(site, "index.html", buf.Bytes(), man); err != nil {
		return err
	}
	for _, s := range subjects {
		d := subjectData{Title: "Subject " + s.Code.String(), Root: "../", Subject: s}
		a, b := s.Before, s.After
		if b == nil {
			b = a
		}
		if a != nil {
			d.A, d.B = a.Row.Photo, b.Row.Photo
			d.PreviewA, d.PreviewB = "../"+a.Preview, "../"+b.Preview
		}
		buf.Reset()
		if err := pageTemplates.ExecuteTemplate(&buf, "subject", d); err != nil {
			return err
		}
		if err := writePage(site, s.Page(), buf.Bytes(), man); err != nil {
			return err
		}
	}
	return nil
}

// writePage writes a page unless the manifest says it already holds
// exactly this content, so an incremental build touches only what changed.
func writePage(site, name string, b []byte, man *manifest) error {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	if man.Pages[name] == h {
		if _, err := os.Stat(filepath.Join(site, name)); err == nil {
			return nil
		}
	}
	if err := writeFile(filepath.Join(site, name), b); err != nil {
		return err
	}
	man.Pages[name] = h
	return nil
}

// removeStalePages deletes the pages of subjects no longer in the site, and
// any other file in the page folder.
func removeStalePages(site string, subjects []*subjectView, man *manifest) error {
	keep := map[string]bool{"index.html": true, "assets/gallery.css": true, "assets/gallery.js": true}
	for _, s := range subjects {
		keep[s.Page()] = true
	}
	for name := range man.Pages {
		if !keep[name] {
			delete(man.Pages, name)
		}
	}
	entries, err := os.ReadDir(filepath.Join(site, pageDir))
	if err != nil {
		return err
	}
	for _, d := range entries {
		if !keep[pageDir+"/"+d.Name()] && !strings.HasPrefix(d.Name(), tempPrefix) {
			if err := os.Remove(filepath.Join(site, pageDir, d.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
