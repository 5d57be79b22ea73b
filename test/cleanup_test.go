package test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestJsiiTestsCloseTheRuntime requires every test package that starts the jsii runtime (it imports the CDK or jsii)
// to close it in a TestMain (jsii.Close, or cdktest.Main): an unclosed runtime leaves its Node process's directory
// (jsii-runtime.*) in the system's temporary directory after every test run.
func TestJsiiTestsCloseTheRuntime(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]bool{}   // directory -> its tests start jsii
	closes := map[string]bool{} // directory -> a test file calls jsii.Close or cdktest.Main
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "cdk.out", "testdata", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/aws/aws-cdk-go/") || p == "github.com/aws/jsii-runtime-go" {
				uses[dir] = true
			}
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "jsii.Close()") || strings.Contains(string(src), "cdktest.Main(m)") {
			closes[dir] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(uses) < 5 {
		t.Fatalf("found only %d test packages that use jsii: the scan is broken", len(uses))
	}
	for dir := range uses {
		if !closes[dir] {
			rel, _ := filepath.Rel(root, dir)
			t.Errorf("%s: its tests start the jsii runtime but never call jsii.Close (add a TestMain that does)", rel)
		}
	}
}
