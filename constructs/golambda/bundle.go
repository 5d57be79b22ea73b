package golambda

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// ModulePath is the import path of the eventlake module.
const ModulePath = "github.com/eventlake/eventlake"

// buildTags, buildFlags and buildEnv are everything that, besides the sources, decides the binary. They are part of
// the asset hash.
var (
	buildTags  = "lambda.norpc"
	buildFlags = []string{"-tags", buildTags, "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid="}
	buildEnv   = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly"}
)

// handler is a resolved handler package: where to build it from and the hash of what goes into it.
type handler struct {
	pkg       string // import path
	moduleDir string // the directory go runs in
	srcDir    string // the package's directory
	hash      string // hex sha256 of the sources
}

var (
	resolveMu    sync.Mutex
	resolveCache = map[string]*handler{}
	buildMu      sync.Mutex
	buildCache   = map[string][]byte{} // hash -> the built bootstrap
)

// listedPackage is the part of `go list -json` that the hash needs.
type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	GoFiles    []string
	EmbedFiles []string
	Module     *struct {
		Path      string
		Version   string
		Main      bool
		GoVersion string
		Replace   *struct{ Path, Version string }
	}
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

// resolve lists pkg and its dependencies from moduleDir and hashes them. Results are cached for the process.
func resolve(pkg, moduleDir string) (*handler, error) {
	key := moduleDir + "\x00" + pkg
	resolveMu.Lock()
	defer resolveMu.Unlock()
	if h, ok := resolveCache[key]; ok {
		return h, nil
	}
	args := append([]string{"list", "-deps", "-json=ImportPath,Name,Dir,Standard,GoFiles,EmbedFiles,Module,Error,DepsErrors", "-tags", buildTags}, pkg)
	out, err := goCommand(moduleDir, args...)
	if err != nil {
		return nil, err
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read go list output for %s: %w", pkg, err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("go list found no package %s", pkg)
	}
	target := pkgs[len(pkgs)-1] // -deps lists dependencies first, the package itself last
	if target.Error != nil {
		return nil, fmt.Errorf("package %s: %s", pkg, target.Error.Err)
	}
	if len(target.DepsErrors) > 0 {
		return nil, fmt.Errorf("package %s: %s", pkg, target.DepsErrors[0].Err)
	}
	if target.Name != "main" {
		return nil, fmt.Errorf("package %s is package %s; a Lambda handler must be package main", pkg, target.Name)
	}
	hash, err := hashSources(pkgs)
	if err != nil {
		return nil, err
	}
	h := &handler{pkg: target.ImportPath, moduleDir: moduleDir, srcDir: target.Dir, hash: hash}
	resolveCache[key] = h
	return h, nil
}

// hashSources hashes what decides a handler's binary: the build settings, each module-cache dependency by path and
// version, and each local package by the names and contents of its files. Standard-library packages are left out:
// they come with the toolchain.
func hashSources(pkgs []listedPackage) (string, error) {
	sum := sha256.New()
	fmt.Fprintf(sum, "golambda/v1\x00%s\x00%s\x00", strings.Join(buildEnv, " "), strings.Join(buildFlags, " "))
	for _, p := range pkgs {
		if p.Standard {
			continue
		}
		fmt.Fprintf(sum, "pkg %s\x00", p.ImportPath)
		if m := p.Module; m != nil && !m.Main && m.Replace == nil && m.Version != "" {
			fmt.Fprintf(sum, "mod %s@%s\x00", m.Path, m.Version)
			continue
		}
		if p.Module != nil && p.Module.Replace != nil && p.Module.Replace.Version != "" {
			fmt.Fprintf(sum, "mod %s@%s => %s@%s\x00", p.Module.Path, p.Module.Version, p.Module.Replace.Path, p.Module.Replace.Version)
			continue
		}
		if p.Module != nil && p.Module.Main {
			fmt.Fprintf(sum, "go %s\x00", p.Module.GoVersion)
		}
		files := append(append([]string(nil), p.GoFiles...), p.EmbedFiles...)
		sort.Strings(files)
		for _, f := range files {
			content, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				return "", fmt.Errorf("hash sources of %s: %w", p.ImportPath, err)
			}
			fileSum := sha256.Sum256(content)
			fmt.Fprintf(sum, "file %s %x\x00", filepath.ToSlash(f), fileSum)
		}
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// build compiles the handler into dir/bootstrap. A handler is compiled once per process; later stacks copy it.
func (h *handler) build(dir string) error {
	buildMu.Lock()
	defer buildMu.Unlock()
	target := filepath.Join(dir, "bootstrap")
	if built, ok := buildCache[h.hash]; ok {
		return os.WriteFile(target, built, 0o755)
	}
	args := append([]string{"build", "-o", target}, buildFlags...)
	if _, err := goCommand(h.moduleDir, append(args, h.pkg)...); err != nil {
		return err
	}
	if built, err := os.ReadFile(target); err == nil {
		buildCache[h.hash] = built
	}
	return nil
}

// goCommand runs the go command in dir with the Lambda build environment and returns its standard output.
func goCommand(dir string, args ...string) ([]byte, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is needed at synth time to build Lambda handlers, and it is not on PATH: %w", err)
	}
	cmd := exec.Command(gobin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// ModuleDir returns the directory of the eventlake module in use: this checkout, a local replace, or the module
// cache. The eventlake handlers are built from it.
func ModuleDir() (string, error) {
	rootOnce.Do(func() {
		// This file's compile-time path is the quickest answer when it is still on disk (no -trimpath).
		if _, file, _, ok := runtime.Caller(0); ok {
			dir := filepath.Join(filepath.Dir(file), "..", "..")
			if isEventlakeModule(dir) {
				rootDir = filepath.Clean(dir)
				return
			}
		}
		out, err := goCommand("", "list", "-m", "-f", "{{.Dir}}", ModulePath)
		if err != nil {
			rootErr = fmt.Errorf("find the %s module (run from a module that requires it): %w", ModulePath, err)
			return
		}
		rootDir = strings.TrimSpace(string(out))
		if !isEventlakeModule(rootDir) {
			rootErr = fmt.Errorf("module %s resolved to %q, which holds no go.mod for it", ModulePath, rootDir)
		}
	})
	return rootDir, rootErr
}

func isEventlakeModule(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == ModulePath
		}
	}
	return false
}
