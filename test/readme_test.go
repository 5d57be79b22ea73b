package test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// snippet is one fenced Go block of a Markdown file.
type snippet struct {
	line   int    // where the block starts
	source string // the file a fragment is taken from (a <!-- from: PATH --> comment right above the block)
	code   string
}

var (
	fromComment   = regexp.MustCompile(`^<!-- from: (\S+) -->$`)
	packageClause = regexp.MustCompile(`(?m)^package \w+$`)
)

// goSnippets returns the fenced ```go blocks of a Markdown file.
func goSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []snippet
	var cur *snippet
	from := ""
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && line == "```go":
			cur = &snippet{line: n, source: from}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		default:
			if m := fromComment.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				from = m[1]
			} else if strings.TrimSpace(line) != "" {
				from = ""
			}
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: a ```go block is never closed", path, cur.line)
	}
	return out
}

// TestReadmeSnippetsCompile checks every Go block of the README, so that what a newcomer pastes builds. A block is
// either a whole file (it starts with a package clause), built with go vet in a module of its own that requires
// eventlake, as a user's module would; or a fragment with a <!-- from: PATH --> comment right above it, whose lines
// must appear, in order and together, in that file of this repository, which the ordinary tests compile and run.
func TestReadmeSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	snippets := goSnippets(t, filepath.Join(checkout, "README.md"))
	if len(snippets) == 0 {
		t.Fatal("README.md has no Go block: the parser is broken")
	}
	dir := t.TempDir()
	gomod := "module example.com/readme\n\ngo 1.26\n\nrequire github.com/eventlake/eventlake v0.0.0\n\nreplace github.com/eventlake/eventlake => " + checkout + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, s := range snippets {
		where := fmt.Sprintf("README.md:%d", s.line)
		if packageClause.MatchString(s.code) {
			name := "main.go"
			if strings.Contains(s.code, "\"testing\"") {
				name = "snippet_test.go"
			}
			sub := filepath.Join(dir, fmt.Sprintf("line%d", s.line))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, name), []byte(s.code), 0o644); err != nil {
				t.Fatal(err)
			}
			files++
			continue
		}
		if s.source == "" {
			t.Errorf("%s: a Go fragment needs a <!-- from: PATH --> comment naming the compiled file it comes from, or a package clause", where)
			continue
		}
		src, err := os.ReadFile(filepath.Join(checkout, s.source))
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if !strings.Contains(normalizeIndent(string(src)), normalizeIndent(s.code)) {
			t.Errorf("%s: this fragment is not in %s (as it is there, indentation aside):\n%s", where, s.source, s.code)
		}
	}
	if files == 0 {
		return
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the README's snippets (directory lineN holds the block at README.md line N): %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("mod", "tidy")
	run("vet", "./...")
}

// normalizeIndent drops each line's leading white space and blank lines, so a fragment matches its source at any
// depth of indentation.
func normalizeIndent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
