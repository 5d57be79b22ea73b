package lambdart

import (
	"os"
	"testing"

	"github.com/eventlake/eventlake/test/moto"
)

const (
	laketransformPkg = "github.com/eventlake/eventlake/lambdas/laketransform"
	fnhandlerPkg     = "github.com/eventlake/eventlake/test/rehearsal/lambdart/testdata/fnhandler"
)

func TestMain(m *testing.M) {
	code := moto.Run(m)
	RemoveBuilds()
	os.Exit(code)
}

// bootstrapDir builds a handler package as it is deployed and returns its asset directory.
func bootstrapDir(t testing.TB, pkg string) string { return Build(t, pkg) }

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
