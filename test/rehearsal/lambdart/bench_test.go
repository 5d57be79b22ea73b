package lambdart

import (
	"context"
	"os"
	"testing"
	"time"
)

// The per-invocation cost under qemu of the data lake's real transformation with the four-record Firehose batch:
//
//	go test -run XXX -bench . ./test/rehearsal/lambdart/

func BenchmarkLakeTransformWarm(b *testing.B) {
	f := newFunction(b, Config{Name: "laketransform", AssetDir: bootstrapDir(b, laketransformPkg), Timeout: time.Minute})
	f.cfg.Echo = nil
	batch := firehoseBatch(b)
	if _, err := f.Invoke(context.Background(), batch); err != nil { // the cold start
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.Invoke(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLakeTransformCold(b *testing.B) {
	qemu, dir, batch := QEMU(b), bootstrapDir(b, laketransformPkg), firehoseBatch(b)
	var init time.Duration
	for b.Loop() {
		f, err := NewFunction(Config{Name: "laketransform", AssetDir: dir, QEMU: qemu, Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		res, err := f.Run(context.Background(), Invocation{Payload: batch})
		if err != nil {
			b.Fatal(err)
		}
		init += res.InitDuration
		f.Close()
	}
	b.ReportMetric(float64(init.Milliseconds())/float64(b.N), "init-ms/op")
}

func firehoseBatch(tb testing.TB) []byte {
	batch, err := os.ReadFile("../../../lake/testdata/firehose-batch.json")
	if err != nil {
		tb.Fatal(err)
	}
	return batch
}
