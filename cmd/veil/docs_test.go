package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shellLine is one command line of a code block in the documentation.
type shellLine struct {
	file string
	line int
	text string
	sh   bool // in a block marked sh (not a cron table or an output sample)
}

// docShellLines returns the lines of README.md's and docs/*.md's code
// blocks, with backslash continuations joined.
func docShellLines(t *testing.T) []shellLine {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append([]string{filepath.Join("..", "..", "README.md")}, files...)
	var out []shellLine
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		in, sh, n, pending, start := false, false, 0, "", 0
		for sc.Scan() {
			n++
			l := sc.Text()
			if strings.HasPrefix(l, "```") {
				in, sh = !in, strings.TrimPrefix(l, "```") == "sh"
				continue
			}
			if !in {
				continue
			}
			if pending == "" {
				start = n
			}
			if strings.HasSuffix(l, `\`) {
				pending += strings.TrimSuffix(l, `\`) + " "
				continue
			}
			out = append(out, shellLine{file: filepath.Base(name), line: start, text: pending + l, sh: sh})
			pending = ""
		}
		f.Close()
	}
	return out
}

// shellWords splits a command line into commands (at ;, &&, || and |) and
// each into words, honouring quotes; a # outside quotes starts a comment.
func shellWords(line string) [][]string {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	end := func() {
		flush()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			flush()
		case r == ';' || r == '&' || r == '|':
			end()
		case r == '#' && !inWord:
			end()
			return cmds
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	end()
	return cmds
}

// cronPrefix is the schedule (and user) of a crontab line.
var cronPrefix = regexp.MustCompile(`^\s*([0-9*/,-]+\s+){5}(veil\s+)?`)

// veilArgs returns the arguments of a veil command line, or false when the
// command is not veil: a leading sudo -u USER and VAR=value are skipped.
func veilArgs(words []string) ([]string, bool) {
	for len(words) > 0 {
		switch {
		case words[0] == "sudo" && len(words) > 2 && words[1] == "-u":
			words = words[3:]
		case strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-"):
			words = words[1:]
		default:
			return words[1:], filepath.Base(words[0]) == "veil"
		}
	}
	return nil, false
}

// TestDocsCommandsParse: every veil command in README.md's and docs/*.md's
// sh blocks and crontab lines names a command, flags and arguments that
// exist.
func TestDocsCommandsParse(t *testing.T) {
	checked := 0
	for _, l := range docShellLines(t) {
		if !l.sh && !cronPrefix.MatchString(l.text) {
			continue // a usage synopsis, a folder listing, output
		}
		for _, words := range shellWords(cronPrefix.ReplaceAllString(l.text, "")) {
			args, ok := veilArgs(words)
			if !ok {
				continue
			}
			checked++
			root := newRootCommand()
			c, rest, err := root.Find(args)
			if err == nil {
				err = c.ParseFlags(rest)
			}
			if err == nil && c.Args != nil {
				err = c.Args(c, c.Flags().Args())
			}
			if err != nil {
				t.Errorf("%s:%d: %s: %v", l.file, l.line, l.text, err)
			}
		}
	}
	t.Logf("%d veil command lines checked", checked)
	if checked < 10 {
		t.Errorf("checked only %d veil command lines in the docs", checked)
	}
}

// TestReadmeTryIt runs README's "Try it on a fresh machine" block and every
// ./veil line of the docs that follow it (scan of the release, gallery),
// with the veil under test in place of the one it builds.
func TestReadmeTryIt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole ingest")
	}
	var script []string
	for _, l := range docShellLines(t) {
		switch {
		case !l.sh:
		case strings.HasPrefix(l.text, "go build -o veil ./cmd/veil && "):
			script = append([]string{strings.TrimPrefix(l.text, "go build -o veil ./cmd/veil && ")}, script...)
		case strings.HasPrefix(l.text, "./veil "):
			script = append(script, l.text)
		}
	}
	if len(script) < 2 {
		t.Fatalf("README's try-it block or its follow-ups not found: %q", script)
	}
	work := t.TempDir()
	repo, _ := filepath.Abs(filepath.Join("..", ".."))
	os.Symlink(filepath.Join(repo, "testdata"), filepath.Join(work, "testdata"))
	os.Symlink(veilPath(t), filepath.Join(work, "veil"))
	cmd := exec.Command("sh", "-ec", strings.Join(script, "\n"))
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, strings.Join(script, "\n"), out)
	}
}
