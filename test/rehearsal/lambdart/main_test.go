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

	"github.com/eventlake/eventlake/test/moto"
)

const (
	laketransformPkg = "github.com/eventlake/eventlake/lambdas/laketransform"
	fnhandlerPkg     = "github.com/eventlake/eventlake/test/rehearsal/lambdart/testdata/fnhandler"
)

// buildRoot holds the bootstraps the tests build, one directory per package.
var buildRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildRoot = dir
	code := moto.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

type build struct {
	once sync.Once
	dir  string
	err  error
}

var builds sync.Map // package path → *build

// bootstrapDir builds pkg as Lambda's deploy does (linux/arm64, lambda.norpc, trimmed, stripped) into a directory of
// its own, once per test binary, and returns the directory: an asset directory holding bootstrap.
func bootstrapDir(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		b.dir = filepath.Join(buildRoot, strings.ReplaceAll(pkg, "/", "_"))
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

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// newFunction returns a function of the test handler (or of cfg.AssetDir) under qemu, echoing its logs to t,
// closed when the test ends.
func newFunction(t testing.TB, cfg Config) *Function {
	t.Helper()
	cfg.QEMU = QEMU(t)
	if cfg.AssetDir == "" {
		cfg.AssetDir = bootstrapDir(t, fnhandlerPkg)
	}
	if cfg.Name == "" {
		cfg.Name = "fn"
	}
	cfg.Echo = t
	f, err := NewFunction(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
