package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eventlake/eventlake/test/moto"
)

// lakeSettings are the data lake's delivery stream settings (constructs/datalake's defaults) for a stream and bucket.
func lakeSettings(name, stream, bucket string) FirehoseSettings {
	return FirehoseSettings{
		DeliveryStreamName: name, SourceStreamARN: stream, BucketARN: "arn:aws:s3:::" + bucket,
		Prefix: "events/!{timestamp:yyyy/MM/dd/HH}/", ErrorOutputPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/",
		BufferingSizeMB: 64, BufferingInterval: 300 * time.Second, CompressionFormat: "GZIP",
		Processor: &FirehoseProcessor{LambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:transform", BufferSizeMB: 1,
			BufferInterval: 60 * time.Second, NumberOfRetries: 3},
	}
}

// lakeLike answers a Firehose event as the lake's transformation does, with the data followed by a newline for every
// JSON object; records {"drop":true} are Dropped and anything else ProcessingFailed.
func lakeLike(t testing.TB, payload []byte) ([]byte, error) {
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(payload, &in); err != nil {
		t.Errorf("event %s: %v", payload, err)
		return nil, err
	}
	var out events.KinesisFirehoseResponse
	for _, r := range in.Records {
		var obj map[string]any
		res := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateOk, Data: append(r.Data, '\n')}
		switch {
		case json.Unmarshal(r.Data, &obj) != nil:
			res.Result, res.Data = events.KinesisFirehoseTransformedStateProcessingFailed, r.Data
		case obj["drop"] == true:
			res.Result, res.Data = events.KinesisFirehoseTransformedStateDropped, nil
		}
		out.Records = append(out.Records, res)
	}
	return json.Marshal(out)
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func newFirehose(t testing.TB, cfg aws.Config, s FirehoseSettings, fn Invoker, opts ...Option) *Firehose {
	t.Helper()
	f, err := NewFirehose(context.Background(), cfg, s, fn, append([]Option{WithLogf(t.Logf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// keyPattern is the regular expression of a key under prefix: the prefix's hour path, then Firehose's object name.
func keyPattern(prefix, name string, at time.Time, ext string) *regexp.Regexp {
	at = at.UTC()
	return regexp.MustCompile("^" + regexp.QuoteMeta(prefix+at.Format("2006/01/02/15/")+name+"-1-"+at.Format("2006-01-02-15-04-05")+"-") +
		`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}` + regexp.QuoteMeta(ext) + "$")
}

func TestFirehoseWritesTheLakeLayout(t *testing.T) {
	// GIVEN the lake's delivery stream on a two-shard stream, a record written before it starts, then five records:
	// three events, one that is not JSON and one the transformation drops
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 2)
	bucket := newBucket(t, cfg)
	put(t, cfg, stream, "early", []byte(`{"id":"before"}`), "")
	var invocations [][]byte
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) { invocations = append(invocations, p); return lakeLike(t, p) }}
	name := uniqueName(t, "lake")
	f := newFirehose(t, cfg, lakeSettings(name, stream, bucket), fn)
	datas := []string{`{"id":"1"}`, `not json`, `{"id":"2"}`, `{"drop":true}`, `{"id":"3"}`}
	for i, d := range datas {
		put(t, cfg, stream, fmt.Sprintf("key-%d", i), []byte(d), "")
	}

	// WHEN the delivery stream is drained
	if err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}

	// THEN the transformation got one event as Firehose writes it, with the five records in arrival order
	if len(invocations) != 1 {
		t.Fatalf("%d invocations, want 1", len(invocations))
	}
	var in events.KinesisFirehoseEvent
	json.Unmarshal(invocations[0], &in)
	if in.InvocationID == "" || in.DeliveryStreamArn != "arn:aws:firehose:us-east-1:123456789012:deliverystream/"+name ||
		in.SourceKinesisStreamArn != stream || in.Region != "us-east-1" || len(in.Records) != 5 {
		t.Fatalf("event %s", invocations[0])
	}
	oldest := in.Records[0].ApproximateArrivalTimestamp.Time
	for i, r := range in.Records {
		md := r.KinesisFirehoseRecordMetadata
		if string(r.Data) != datas[i] || md.PartitionKey != fmt.Sprintf("key-%d", i) || !strings.HasPrefix(md.ShardID, "shardId-") ||
			md.SequenceNumber == "" || !strings.HasPrefix(r.RecordID, md.SequenceNumber) || !md.ApproximateArrivalTimestamp.Equal(r.ApproximateArrivalTimestamp.Time) {
			t.Errorf("record %d: %+v", i, r)
		}
		if r.ApproximateArrivalTimestamp.Before(oldest) {
			t.Errorf("record %d arrived before the first", i)
		}
	}
	if !regexp.MustCompile(`"approximateArrivalTimestamp":\d{13},`).Match(invocations[0]) || !strings.Contains(string(invocations[0]), `"subsequenceNumber":0`) {
		t.Errorf("timestamps and subsequence numbers are not epoch milliseconds and 0: %s", invocations[0])
	}

	// AND one gzip object under the hour of the oldest record holds the Ok records' data, concatenated
	objects := f.Objects()
	if len(objects) != 2 {
		t.Fatalf("objects %+v, want one data and one error object", objects)
	}
	keys := listKeys(t, cfg, bucket, "events/")
	if len(keys) != 1 || !keyPattern("events/", name, oldest, ".gz").MatchString(keys[0]) {
		t.Fatalf("data objects %v, want one matching %s", keys, keyPattern("events/", name, oldest, ".gz"))
	}
	if got := string(gunzip(t, getObject(t, cfg, bucket, keys[0]))); got != "{\"id\":\"1\"}\n{\"id\":\"2\"}\n{\"id\":\"3\"}\n" {
		t.Errorf("data object holds %q", got)
	}

	// AND the record that is not JSON is under the error prefix, in Firehose's error record format
	errKeys := listKeys(t, cfg, bucket, "errors/")
	failed := in.Records[1]
	if len(errKeys) != 1 || !keyPattern("errors/processing-failed/", name, failed.ApproximateArrivalTimestamp.Time, ".gz").MatchString(errKeys[0]) {
		t.Fatalf("error objects %v", errKeys)
	}
	lines := strings.Split(strings.TrimSuffix(string(gunzip(t, getObject(t, cfg, bucket, errKeys[0]))), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("error lines %q", lines)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(fmt.Sprint(doc["rawData"]))
	if string(raw) != "not json" || doc["errorCode"] != "Lambda.ProcessingFailedStatus" || doc["errorMessage"] != "ProcessingFailed status set for record" ||
		doc["attemptsMade"] != 1.0 || doc["arrivalTimestamp"] != float64(failed.ApproximateArrivalTimestamp.UnixMilli()) ||
		doc["lambdaArn"] != "arn:aws:lambda:us-east-1:123456789012:function:transform:$LATEST" || doc["attemptEndingTimestamp"] == nil {
		t.Errorf("error record %s", lines[0])
	}
	if s := f.Stats(); s.Records != 5 || s.Ok != 3 || s.Dropped != 1 || s.ProcessingFailed != 1 || s.Objects != 1 || s.ErrorObjects != 1 {
		t.Errorf("stats %+v", s)
	}

	// AND a second drain, with nothing new, writes nothing
	if err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Objects()); n != 2 || len(invocations) != 1 {
		t.Errorf("%d objects, %d invocations after a second drain", n, len(invocations))
	}
}

func TestFirehoseFailedTransformationGoesToTheErrorOutputAfterRetries(t *testing.T) {
	// GIVEN a transformation that always fails, three retries, and two records
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	bucket := newBucket(t, cfg)
	fn := &calls{handle: func(int, []byte) ([]byte, error) { return nil, fmt.Errorf("boom") }}
	s := lakeSettings(uniqueName(t, "lake"), stream, bucket)
	s.CompressionFormat = "UNCOMPRESSED"
	f := newFirehose(t, cfg, s, fn)
	put(t, cfg, stream, "a", []byte(`{"id":"1"}`), "")
	put(t, cfg, stream, "b", []byte(`{"id":"2"}`), "")

	// WHEN the delivery stream is drained
	if err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}

	// THEN the batch was tried four times, and both records went to the error output as a function error
	if n := len(fn.all()); n != 4 {
		t.Errorf("%d invocations, want 4", n)
	}
	if keys := listKeys(t, cfg, bucket, "events/"); len(keys) != 0 {
		t.Errorf("data objects %v", keys)
	}
	keys := listKeys(t, cfg, bucket, "errors/processing-failed/")
	if len(keys) != 1 || strings.HasSuffix(keys[0], ".gz") {
		t.Fatalf("error objects %v, want one uncompressed", keys)
	}
	lines := strings.Split(strings.TrimSpace(string(getObject(t, cfg, bucket, keys[0]))), "\n")
	if len(lines) != 2 {
		t.Fatalf("error lines %q", lines)
	}
	for _, l := range lines {
		var doc errorDoc
		json.Unmarshal([]byte(l), &doc)
		if doc.ErrorCode != "Lambda.FunctionError" || doc.AttemptsMade != 4 || doc.AttemptEndingTimestamp < doc.ArrivalTimestamp {
			t.Errorf("error record %s", l)
		}
	}
	if s := f.Stats(); s.Invocations != 4 || s.Retries != 3 || s.ProcessingFailed != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestFirehoseBufferSizes(t *testing.T) {
	// GIVEN seven records of 300,000 bytes, a 1 MiB transformation buffer and a 1 MiB S3 buffer
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	bucket := newBucket(t, cfg)
	var sizes []int
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) {
		var in events.KinesisFirehoseEvent
		json.Unmarshal(p, &in)
		sizes = append(sizes, len(in.Records))
		return lakeLike(t, p)
	}}
	s := lakeSettings(uniqueName(t, "lake"), stream, bucket)
	s.BufferingSizeMB = 1
	f := newFirehose(t, cfg, s, fn)
	big := []byte(`{"pad":"` + strings.Repeat("x", 300000-10) + `"}`)
	for i := 0; i < 7; i++ {
		put(t, cfg, stream, "k", big, "")
	}

	// WHEN the delivery stream is drained
	if err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}

	// THEN the transformation got at most 1 MiB of data per invocation, and an object was cut at 1 MiB
	if !reflect.DeepEqual(sizes, []int{3, 3, 1}) {
		t.Errorf("invocation sizes %v, want [3 3 1]", sizes)
	}
	var records []int
	for _, o := range f.Objects() {
		records = append(records, o.Records)
	}
	if !reflect.DeepEqual(records, []int{4, 3}) {
		t.Errorf("records per object %v, want [4 3]", records)
	}
}

func TestFirehoseObjectGoesUnderItsOldestRecordsHour(t *testing.T) {
	// GIVEN a driver and records that arrived on both sides of an hour
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	bucket := newBucket(t, cfg)
	name := uniqueName(t, "lake")
	f := newFirehose(t, cfg, lakeSettings(name, stream, bucket), &calls{})
	at := time.Date(2024, 3, 5, 7, 59, 59, 999e6, time.UTC)
	recs := []firehoseRecord{
		{data: []byte("b\n"), arrival: at.Add(2 * time.Millisecond)},
		{data: []byte("a\n"), arrival: at},
	}

	// WHEN they are written as one object
	if err := f.writeData(context.Background(), recs); err != nil {
		t.Fatal(err)
	}

	// THEN its key shows the oldest record's hour and second
	keys := listKeys(t, cfg, bucket, "events/")
	if len(keys) != 1 || !keyPattern("events/", name, at, ".gz").MatchString(keys[0]) {
		t.Errorf("keys %v, want events/2024/03/05/07/%s-1-2024-03-05-07-59-59-<uuid>.gz", keys, name)
	}
}

func TestEvaluatePrefix(t *testing.T) {
	at := time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC)
	for in, want := range map[string]string{
		"events/!{timestamp:yyyy/MM/dd/HH}/":                                "events/2024/03/05/07/",
		"errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/":  "errors/processing-failed/2024/03/05/07/",
		"dt=!{timestamp:yyyy'-'MM'-'dd}/h=!{timestamp:HH}/":                 "dt=2024-03-05/h=07/",
		"!{timestamp:'year='yyyy'/month='MM}/!{timestamp:mm:ss}/plain/text": "year=2024/month=03/08:09/plain/text",
	} {
		got, err := EvaluatePrefix(in, at, ErrorOutputTypeProcessingFailed)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	if got, _ := EvaluatePrefix("x/!{firehose:random-string}/", at, ""); !regexp.MustCompile(`^x/[a-z0-9]{11}/$`).MatchString(got) {
		t.Errorf("random-string: %q", got)
	}
	for _, bad := range []string{"!{partitionKeyFromQuery:id}/", "!{timestamp:EEEE}/", "!{firehose:error-output-type}/", "!{timestamp:yyyy"} {
		if _, err := EvaluatePrefix(bad, at, ""); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestFirehoseSettingsFrom(t *testing.T) {
	// The lake's delivery stream as cfn resolves the blueprint's template.
	props := map[string]any{
		"DeliveryStreamType": "KinesisStreamAsSource",
		"ExtendedS3DestinationConfiguration": map[string]any{
			"BucketARN":                "arn:aws:s3:::lake",
			"BufferingHints":           map[string]any{"IntervalInSeconds": json.Number("300"), "SizeInMBs": json.Number("64")},
			"CloudWatchLoggingOptions": map[string]any{"Enabled": true, "LogGroupName": "g", "LogStreamName": "s"},
			"CompressionFormat":        "GZIP",
			"ErrorOutputPrefix":        "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/",
			"Prefix":                   "events/!{timestamp:yyyy/MM/dd/HH}/",
			"ProcessingConfiguration": map[string]any{"Enabled": true, "Processors": []any{map[string]any{
				"Type": "Lambda",
				"Parameters": []any{
					map[string]any{"ParameterName": "RoleArn", "ParameterValue": "arn:aws:iam::123456789012:role/delivery"},
					map[string]any{"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:123456789012:function:transform"},
					map[string]any{"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
					map[string]any{"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
					map[string]any{"ParameterName": "NumberOfRetries", "ParameterValue": "3"},
				},
			}}},
			"RoleARN": "arn:aws:iam::123456789012:role/delivery",
		},
		"KinesisStreamSourceConfiguration": map[string]any{"KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/events", "RoleARN": "r"},
	}
	got, err := FirehoseSettingsFrom(props)
	if err != nil {
		t.Fatal(err)
	}
	want := lakeSettings("", "arn:aws:kinesis:us-east-1:123456789012:stream/events", "lake")
	want.Version = 1
	want.Processor.RoleARN = "arn:aws:iam::123456789012:role/delivery"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings\n%+v %+v\nwant\n%+v %+v", got, got.Processor, want, want.Processor)
	}
	props["DeliveryStreamType"] = "DirectPut"
	if _, err := FirehoseSettingsFrom(props); err == nil {
		t.Error("a DirectPut delivery stream was accepted")
	}
}

func TestFirehoseWithoutTransformationOrExpressions(t *testing.T) {
	// GIVEN an uncompressed delivery stream with no processor and a prefix without expressions
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	bucket := newBucket(t, cfg)
	name := uniqueName(t, "raw")
	f := newFirehose(t, cfg, FirehoseSettings{DeliveryStreamName: name, SourceStreamARN: stream, BucketARN: "arn:aws:s3:::" + bucket, Prefix: "raw/"}, nil,
		WithStartingPosition("TRIM_HORIZON"))
	put(t, cfg, stream, "k", []byte("a"), "")
	put(t, cfg, stream, "k", []byte("b"), "")

	// WHEN the delivery stream is drained
	if err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}

	// THEN the records are concatenated as they came, under the prefix and Firehose's default hour path
	objects := f.Objects()
	if len(objects) != 1 || !keyPattern("raw/", name, objects[0].Oldest, "").MatchString(objects[0].Key) {
		t.Fatalf("objects %+v", objects)
	}
	if got := string(getObject(t, cfg, bucket, objects[0].Key)); got != "ab" {
		t.Errorf("object holds %q", got)
	}
	if s := f.Stats(); s.Ok != 2 || s.Invocations != 0 {
		t.Errorf("stats %+v", s)
	}
	if _, err := NewFirehose(context.Background(), cfg, FirehoseSettings{DeliveryStreamName: name, SourceStreamARN: stream,
		BucketARN: "arn:aws:s3:::" + bucket, Prefix: "x/!{timestamp:yyyy}/"}, nil); err == nil {
		t.Error("a prefix with expressions and no ErrorOutputPrefix was accepted")
	}
}

func TestFirehoseArrivalClock(t *testing.T) {
	// GIVEN the lake's delivery stream on a two-shard stream, its arrival clock moving records into a past hour, and
	// four records, one of them not JSON
	cfg := moto.Config(t)
	ctx := context.Background()
	stream := newStream(t, cfg, 2)
	bucket := newBucket(t, cfg)
	var invocations [][]byte
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) { invocations = append(invocations, p); return lakeLike(t, p) }}
	name := uniqueName(t, "lake")
	f := newFirehose(t, cfg, lakeSettings(name, stream, bucket), fn)
	past := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	shift := past.Sub(time.Now().Truncate(time.Second)) // whole seconds: the mapped times keep moto's milliseconds
	f.SetArrivalClock(func(arrival time.Time) time.Time { return arrival.Add(shift) })
	keys := shardHashKeys(t, cfg, stream)
	var hashKeys []string
	for _, k := range keys {
		hashKeys = append(hashKeys, k)
	}
	datas := []string{`{"id":"1"}`, `not json`, `{"id":"2"}`, `{"id":"3"}`}
	for i, d := range datas {
		put(t, cfg, stream, fmt.Sprintf("key-%d", i), []byte(d), hashKeys[i%len(hashKeys)])
	}

	// WHEN the delivery stream is drained
	if err := f.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	// THEN the transformation saw each record arrive at its stream arrival moved by the clock, to the millisecond, in
	// both of its arrival timestamps
	want := map[string]time.Time{} // data → mapped arrival
	for _, r := range readStream(t, cfg, stream) {
		want[string(r.Data)] = aws.ToTime(r.ApproximateArrivalTimestamp).Truncate(time.Millisecond).Add(shift)
	}
	if len(invocations) != 1 {
		t.Fatalf("%d invocations, want 1", len(invocations))
	}
	var in events.KinesisFirehoseEvent
	json.Unmarshal(invocations[0], &in)
	var oldest, oldestOk time.Time
	for _, r := range in.Records {
		at, md := r.ApproximateArrivalTimestamp.Time, r.KinesisFirehoseRecordMetadata.ApproximateArrivalTimestamp.Time
		if w := want[string(r.Data)]; !at.Equal(w) || !md.Equal(w) || at.Before(past) || at.After(past.Add(time.Minute)) {
			t.Errorf("record %s arrived at %s (metadata %s), want %s", r.Data, at, md, w)
		}
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
		if string(r.Data) != "not json" && (oldestOk.IsZero() || at.Before(oldestOk)) {
			oldestOk = at
		}
	}

	// AND the data object is named, and partitioned, by its oldest record's mapped arrival, which it reports
	var data, errs []DeliveredObject
	for _, o := range f.Objects() {
		if o.Error {
			errs = append(errs, o)
		} else {
			data = append(data, o)
		}
	}
	if len(data) != 1 || !data[0].Oldest.Equal(oldestOk) || !keyPattern("events/", name, oldestOk, ".gz").MatchString(data[0].Key) ||
		!strings.HasPrefix(data[0].Key, "events/2021/02/03/04/"+name+"-1-2021-02-03-04-05-") {
		t.Errorf("data objects %+v, want one under the mapped hour named at %s", data, oldestOk)
	}

	// AND the record that is not JSON is under the error prefix of its mapped hour, with its mapped arrival
	failedAt := want["not json"]
	if len(errs) != 1 || !errs[0].Oldest.Equal(failedAt) || !keyPattern("errors/processing-failed/", name, failedAt, ".gz").MatchString(errs[0].Key) {
		t.Fatalf("error objects %+v, want one under the mapped hour named at %s", errs, failedAt)
	}
	var doc errorDoc
	if err := json.Unmarshal(bytes.TrimSpace(gunzip(t, getObject(t, cfg, bucket, errs[0].Key))), &doc); err != nil || doc.ArrivalTimestamp != failedAt.UnixMilli() {
		t.Errorf("error record %+v (%v), want arrivalTimestamp %d", doc, err, failedAt.UnixMilli())
	}
	if doc.AttemptEndingTimestamp < time.Now().Add(-time.Minute).UnixMilli() {
		t.Errorf("attemptEndingTimestamp %d moved with the arrival clock: it is Firehose's own time", doc.AttemptEndingTimestamp)
	}

	// AND without the clock, the next record goes under the hour it really arrived in
	f.SetArrivalClock(nil)
	put(t, cfg, stream, "key-4", []byte(`{"id":"4"}`), "")
	before := time.Now().UTC()
	if err := f.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	objects := f.Objects()
	last := objects[len(objects)-1]
	if len(objects) != 3 || last.Error || last.Oldest.Before(before.Add(-time.Minute)) || !keyPattern("events/", name, last.Oldest, ".gz").MatchString(last.Key) {
		t.Errorf("objects after the clock was removed %+v", objects)
	}
}

// readStream returns every record of every shard of a stream.
func readStream(t testing.TB, cfg aws.Config, streamARN string) []ktypes.Record {
	t.Helper()
	ctx := context.Background()
	c := kinesis.NewFromConfig(cfg)
	var out []ktypes.Record
	for id := range shardHashKeys(t, cfg, streamARN) {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &streamARN, ShardId: aws.String(id), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: &streamARN, ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs.Records...)
	}
	return out
}
