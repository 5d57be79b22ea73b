package replay_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

// listings records where each ListObjectsV2 call asked S3 to start.
type listings struct {
	mu    sync.Mutex
	start []string
}

func (l *listings) record(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordStartAfter", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if list, ok := in.Parameters.(*s3.ListObjectsV2Input); ok {
			l.mu.Lock()
			l.start = append(l.start, aws.ToString(list.StartAfter))
			l.mu.Unlock()
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// hourlyLake puts one object under each of the lake's hours 06 to 12 of 2026-11-21 (two under 09) and one under
// 2026-11-22 00, and one under a per-type layout (events/orders/<hour>/), in moto; an object's size is its index + 1.
func hourlyLake(t *testing.T) (*s3.Client, *listings, string, []string) {
	t.Helper()
	rec := &listings{}
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, rec.record)
	})
	bucket := fmt.Sprintf("hourly-%d", time.Now().UnixNano())
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	keys := []string{
		"events/2026/11/21/06/a", "events/2026/11/21/07/a", "events/2026/11/21/08/a", "events/2026/11/21/09/a", "events/2026/11/21/09/b",
		"events/2026/11/21/10/a", "events/2026/11/21/11/a", "events/2026/11/21/12/a", "events/2026/11/22/00/a",
	}
	for i, k := range keys {
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(strings.Repeat("x", i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	return s3c, rec, bucket, keys
}

func TestListingReadsTheHoursOfTheTimeRangeWithAnHourOfSlack(t *testing.T) {
	s3c, rec, bucket, keys := hourlyLake(t)
	at := func(hm string) time.Time { t, _ := time.Parse("2006-01-02 15:04", "2026-11-21 "+hm); return t }
	sizes := func(idx ...int) (n int, b int64) {
		for _, i := range idx {
			n++
			b += int64(i + 1)
		}
		return
	}
	for _, c := range []struct {
		name        string
		opts        replay.Options
		resumeAfter string
		want        []int  // indexes into keys
		startAfter  string // where listing starts
	}{
		{"everything", replay.Options{}, "", []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, ""},
		// An object under hour H holds events that arrived up to 15 minutes before H: from 09:30, the hour before
		// (08) is read, and listing starts after the hour before that.
		{"from 09:30", replay.Options{From: at("09:30")}, "", []int{2, 3, 4, 5, 6, 7, 8}, "events/2026/11/21/08"},
		{"from 09:00", replay.Options{From: at("09:00")}, "", []int{2, 3, 4, 5, 6, 7, 8}, "events/2026/11/21/08"},
		// Up to 10:30: the hour after (11) is read too, and listing stops at the first object past it.
		{"to 10:30", replay.Options{To: at("10:30")}, "", []int{0, 1, 2, 3, 4, 5, 6}, ""},
		{"09:00 to 09:00", replay.Options{From: at("09:00"), To: at("09:00")}, "", []int{2, 3, 4, 5}, "events/2026/11/21/08"},
		// A prefix of a day, or of an hour (with or without its slash), starts at the same place.
		{"day prefix from 09:30", replay.Options{Prefix: "events/2026/11/21/", From: at("09:30")}, "", []int{2, 3, 4, 5, 6, 7}, "events/2026/11/21/08"},
		{"hour prefix from 09:30", replay.Options{Prefix: "events/2026/11/21/09", From: at("09:30")}, "", []int{3, 4}, "events/2026/11/21/08"},
		{"hour/ prefix from 09:30", replay.Options{Prefix: "events/2026/11/21/09/", From: at("09:30")}, "", []int{3, 4}, "events/2026/11/21/08"},
		// A checkpoint past the range's start is where listing starts; one before it is not.
		{"resumed after 09/a", replay.Options{From: at("09:30")}, keys[3], []int{4, 5, 6, 7, 8}, keys[3]},
		{"resumed after 07/a", replay.Options{From: at("09:30")}, keys[1], []int{2, 3, 4, 5, 6, 7, 8}, "events/2026/11/21/08"},
	} {
		rec.start = nil
		opts := c.opts
		opts.Bucket = bucket
		if opts.Prefix == "" {
			opts.Prefix = "events/"
		}
		n, b, err := replay.Count(context.Background(), s3c, opts, c.resumeAfter)
		wantN, wantB := sizes(c.want...)
		if err != nil || n != wantN || b != wantB {
			t.Errorf("%s: %d objects of %d bytes (%v); want %d of %d: %v", c.name, n, b, err, wantN, wantB, c.want)
		}
		if len(rec.start) != 1 || rec.start[0] != c.startAfter {
			t.Errorf("%s: listing started after %q; want %q", c.name, rec.start, c.startAfter)
		}
	}
}

func TestListingSkipsTheHoursBeforeTheRangeInAnyLayout(t *testing.T) {
	// GIVEN a lake whose hours lie under a directory per event type, so that listing cannot start at the range
	s3c, rec, bucket, _ := hourlyLake(t)
	for _, h := range []string{"05", "07", "08", "09", "12"} {
		s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("typed/orders/2026/11/21/" + h + "/o"), Body: strings.NewReader("x")})
	}
	rec.start = nil
	// WHEN objects from 09:30 to 10:00 are counted
	n, _, err := replay.Count(context.Background(), s3c, replay.Options{Bucket: bucket, Prefix: "typed/",
		From: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC), To: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}, "")
	// THEN those of hours 08 and 09 are: 05 and 07 are more than the slack before, 12 more than the slack after
	if err != nil || n != 2 || len(rec.start) != 1 || rec.start[0] != "typed/2026/11/21/08" {
		t.Errorf("%d objects (%v), listing started after %q; want 2 (hours 08 and 09)", n, err, rec.start)
	}
}

func TestListingNeedsABucket(t *testing.T) {
	if _, _, err := replay.Count(context.Background(), nil, replay.Options{Prefix: "events/"}, ""); err == nil || !strings.Contains(err.Error(), "bucket is required") {
		t.Errorf("count without a bucket: %v", err)
	}
}
