package replay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

// lakeObject makes a gzip lake object of n events of about size bytes each, keys spread over 50 entities.
func lakeObject(n, size, offset int) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	pad := strings.Repeat("x", max(0, size-120))
	for i := range n {
		seq := offset + i
		fmt.Fprintf(zw, `{"kinesisRecordMetadata":{"sequenceNumber":"%d","subsequenceNumber":0,"partitionKey":"entity-%d","shardId":"shardId-000000000003","approximateArrivalTimestamp":%d},"event":{"id":"e%d","type":"thing-updated","timestamp":%d,"partitionKey":"entity-%d","pad":"%s"}}`+"\n",
			seq, seq%50, 1795000000000+seq, seq, 1795000000000+seq, seq%50, pad)
	}
	zw.Close()
	return b.Bytes()
}

// memLake serves objects from memory. It is used only to measure the engine's own work (decode, rebuild, pack)
// without the transfer time of an S3 server; everything else runs against moto.
type memLake struct{ objects map[string][]byte }

func (m *memLake) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.StartAfter) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(m.objects[k])))})
	}
	return out, nil
}

func (m *memLake) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(m.objects[*in.Key]))}, nil
}

// packing is a function target that builds every payload and sends nothing.
type packing struct {
	replay.FunctionTarget
	calls atomic.Int64
	bytes atomic.Int64
}

func (p *packing) Send(_ context.Context, b *replay.Batch) (int, error) {
	p.calls.Add(1)
	p.bytes.Add(int64(len(replay.Payload(b))))
	return 1, nil
}

func (p *packing) Check(context.Context) error { return nil }

// BenchmarkThroughput compares the engine (list, gunzip, decode, rebuild, pack) with gunzip alone on the same
// gzip lake data: 4 objects of 10,000 events of 1 KB.
func BenchmarkThroughput(b *testing.B) {
	lake := &memLake{objects: map[string][]byte{}}
	var raw int64
	for i := range 4 {
		obj := lakeObject(10000, 1024, i*10000)
		lake.objects[fmt.Sprintf("events/2026/11/21/%02d/o", i)] = obj
		zr, _ := gzip.NewReader(bytes.NewReader(obj))
		n, _ := io.Copy(io.Discard, zr)
		raw += n
	}
	b.Run("gunzip", func(b *testing.B) {
		b.SetBytes(raw)
		for range b.N {
			for _, obj := range lake.objects {
				zr, _ := gzip.NewReader(bytes.NewReader(obj))
				io.Copy(io.Discard, zr)
			}
		}
	})
	b.Run("engine", func(b *testing.B) {
		b.SetBytes(raw)
		for range b.N {
			sum, err := replay.Run(context.Background(), lake, &packing{}, replay.Options{Bucket: "lake", Prefix: "events/"}, nil, nil)
			if err != nil || sum.Delivered != 40000 {
				b.Fatalf("%v %+v", err, sum)
			}
		}
	})
}

// BenchmarkPeakMemory replays lakes of 1x and 10x the events from moto S3 into a packing target and reports the peak
// heap in use during the run.
func BenchmarkPeakMemory(b *testing.B) {
	cfg := moto.Config(b)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	for _, scale := range []int{1, 10} {
		bucket := fmt.Sprintf("mem-%dx-%d", scale, time.Now().UnixNano())
		s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket})
		// 1x: 5 objects of 4,000 events of 1 KB; 10x: 10 objects of 20,000.
		objects, per := 5, 4000
		if scale == 10 {
			objects, per = 10, 20000
		}
		for i := range objects {
			if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("events/2026/11/21/%02d/o", i)),
				Body: bytes.NewReader(lakeObject(per, 1024, i*per))}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("%dx", scale), func(b *testing.B) {
			var peak uint64
			for range b.N {
				runtime.GC()
				done := make(chan struct{})
				var local atomic.Uint64
				go func() {
					var ms runtime.MemStats
					for {
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > local.Load() {
							local.Store(ms.HeapInuse)
						}
						select {
						case <-done:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
				sum, err := replay.Run(context.Background(), s3c, &packing{}, replay.Options{Bucket: bucket, Prefix: "events/"}, nil, nil)
				close(done)
				if err != nil || sum.Delivered != int64(objects*per) {
					b.Fatalf("%v %+v", err, sum)
				}
				peak = max(peak, local.Load())
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(objects*per), "events")
		})
	}
}

// BenchmarkInvocationsPer1000 counts the invocations that carry 1,000 events of 1 KB, against the one invocation per
// event of the reference implementation.
func BenchmarkInvocationsPer1000(b *testing.B) {
	lake := &memLake{objects: map[string][]byte{"events/2026/11/21/00/o": lakeObject(1000, 1024, 0)}}
	for _, batch := range []int{100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			var calls, bytes int64
			for range b.N {
				target := &packing{}
				if _, err := replay.Run(context.Background(), lake, target, replay.Options{Bucket: "lake", BatchSize: batch}, nil, nil); err != nil {
					b.Fatal(err)
				}
				calls, bytes = target.calls.Load(), target.bytes.Load()
			}
			b.ReportMetric(float64(calls), "invocations/1000-events")
			b.ReportMetric(1000/float64(calls), "x-fewer-than-one-per-event")
			b.ReportMetric(float64(bytes)/float64(calls)/1024, "KiB/invocation")
		})
	}
}
