// Package bench measures eventlake against baselines built in the same run: synth time against an empty CDK Go app,
// and each handler's zip size against a bare aws-lambda-go handler. Run with `make bench`; see BENCHMARKS.md.
package bench

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// build compiles a package with the flags golambda uses for handlers, or plainly when lambdaFlags is false.
func build(b *testing.B, pkg, out string, lambdaFlags bool) {
	b.Helper()
	args := []string{"build", "-o", out}
	env := os.Environ()
	if lambdaFlags {
		args = append(args, "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=")
		env = append(env, "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
}

func zipSize(b *testing.B, file string) int {
	b.Helper()
	content, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bootstrap")
	w.Write(content)
	zw.Close()
	return buf.Len()
}

// BenchmarkHandlerZip reports the zip size of each handler and of a bare aws-lambda-go handler, built the same way.
func BenchmarkHandlerZip(b *testing.B) {
	dir := b.TempDir()
	build(b, "./testdata/barehandler", filepath.Join(dir, "bare"), true)
	bare := zipSize(b, filepath.Join(dir, "bare"))
	handlers, _ := filepath.Glob("../../lambdas/*")
	for _, h := range handlers {
		name := filepath.Base(h)
		b.Run(name, func(b *testing.B) {
			build(b, "../../lambdas/"+name, filepath.Join(dir, name), true)
			size := zipSize(b, filepath.Join(dir, name))
			b.ResetTimer() // the figures are the sizes; the loop only satisfies the benchmark runner
			for range b.N {
			}
			b.ReportMetric(float64(size), "zip-bytes")
			b.ReportMetric(float64(bare), "bare-zip-bytes")
			b.ReportMetric(float64(size)/float64(bare), "x-bare")
		})
	}
}

// BenchmarkSynth runs whole synths, as `cdk synth` does (a new process, the jsii runtime started, the app built into
// a fresh cloud assembly): the blueprint app against an empty CDK Go app.
func BenchmarkSynth(b *testing.B) {
	dir := b.TempDir()
	apps := map[string]string{"empty": "./testdata/emptyapp", "blueprint": "../.."}
	for _, name := range []string{"empty", "blueprint"} {
		bin := filepath.Join(dir, name)
		build(b, apps[name], bin, false)
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				out := filepath.Join(dir, name+"-out", string(rune('a'+i%26)))
				os.RemoveAll(out)
				cmd := exec.Command(bin)
				cmd.Dir = "../.." // the blueprint builds its handlers from the module
				cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out)
				if o, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", name, err, o)
				}
			}
		})
	}
}
