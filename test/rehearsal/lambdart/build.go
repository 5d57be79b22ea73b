package lambdart

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// builds are the bootstraps Build made in this process, by package path, under buildRoot.
var (
	buildMu   sync.Mutex
	buildRoot string
	builds    = map[string]*build{}
)

type build struct {
	once sync.Once
	dir  string
	err  error
}

// Build builds a handler package as it is deployed (linux/arm64, CGO off, -tags lambda.norpc, -trimpath, stripped),
// once per process, and returns the asset directory that holds its bootstrap, for Config.AssetDir. The builds go
// under a temporary directory that RemoveBuilds deletes: call it from TestMain after the tests.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	if buildRoot == "" {
		dir, err := os.MkdirTemp("", "lambdart-builds-")
		if err != nil {
			buildMu.Unlock()
			t.Fatal(err)
		}
		buildRoot = dir
	}
	b, ok := builds[pkg]
	if !ok {
		b = &build{dir: filepath.Join(buildRoot, strings.ReplaceAll(pkg, "/", "_"))}
		builds[pkg] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		start := time.Now()
		cmd := exec.Command(goTool(), "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w",
			"-o", filepath.Join(b.dir, "bootstrap"), pkg)
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build %s: %v\n%s", pkg, err, out)
			return
		}
		t.Logf("built %s for linux/arm64 in %s", pkg, time.Since(start).Round(time.Millisecond))
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir
}

// RemoveBuilds deletes what Build made.
func RemoveBuilds() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildRoot != "" {
		os.RemoveAll(buildRoot)
		buildRoot, builds = "", map[string]*build{}
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
