package replay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

func TestDeployedLegsResumeAndAddUpTheirTotals(t *testing.T) {
	// GIVEN three lake objects of 10 events, the second one's refused by the target, and a job that carries 99
	// problems from earlier legs
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket, keys := lakeOf(t, s3c, 10, "ok", "bad", "late")
	job := replay.Job{Options: replay.Options{Bucket: bucket, Prefix: "events/", BatchSize: 5, Concurrency: 1}, All: true}
	for i := range 99 {
		job.Totals.Problems = append(job.Totals.Problems, fmt.Sprintf("earlier problem %d", i))
	}
	target := &batches{failKey: "bad"}

	// WHEN a leg starts with less time left than its reserve: it reads nothing, and is not done
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	job, err := replay.RunLeg(ctx, s3c, target, job, 2*time.Minute)
	if err != nil || job.Legs != 1 || job.Done || job.Checkpoint != "" || job.Totals.Read != 0 || len(target.sizes) != 0 {
		t.Fatalf("a leg out of time: %+v, %v; want leg 1 counted, nothing read, not done", job, err)
	}

	// WHEN the next leg has time: it replays everything, moving past the failed object
	job, err = replay.RunLeg(context.Background(), s3c, target, job, time.Second)
	if err != nil {
		t.Fatal(err)
	}

	// THEN the job is done after 2 legs, its checkpoint is the last object, and its totals add up the legs
	tot := job.Totals
	if !job.Done || job.Legs != 2 || job.Checkpoint != keys[2] || tot.Checkpoint != keys[2] || !tot.Done {
		t.Errorf("job %+v; want done after 2 legs, checkpoint %q", job, keys[2])
	}
	if tot.Objects != 3 || tot.Read != 30 || tot.Delivered != 20 || tot.Failed != 10 || tot.Batches != int64(len(target.sizes)) ||
		tot.Invocations != tot.Batches || tot.Bytes == 0 || tot.DryRun || tot.Filtered != 0 || tot.Oversized != 0 || tot.Malformed != 0 {
		t.Errorf("totals %+v; want 3 objects, 30 read, 20 delivered, 10 failed, one invocation per batch", tot)
	}
	// The problems are the first 100: the 99 earlier ones, then the first of this leg's two failed batches.
	if len(tot.Problems) != 100 || tot.Problems[98] != "earlier problem 98" || !strings.HasPrefix(tot.Problems[99], "failed: 5 events from ") {
		t.Errorf("%d problems, the 100th %q; want the 99 earlier ones, then this leg's first, 100 in all", len(tot.Problems), tot.Problems[len(tot.Problems)-1])
	}

	// A further leg of a dry run counts what would go, and adds it.
	job.Options.DryRun, job.Checkpoint = true, ""
	job, err = replay.RunLeg(context.Background(), s3c, &batches{}, job, time.Second)
	if err != nil || job.Totals.WouldDeliver != 30 || !job.Totals.DryRun || job.Totals.Read != 60 || job.Legs != 3 {
		t.Errorf("dry-run leg: totals %+v, %v; want 30 more read, 30 would deliver", job.Totals, err)
	}
}

func TestALegThatCannotRunSaysWhy(t *testing.T) {
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })

	// Options out of range: the *InputError as it is, so that the deployed replay's execution fails as InputError.
	_, err := replay.RunLeg(context.Background(), s3c, &batches{}, replay.Job{Options: replay.Options{Bucket: "b", BatchSize: 20000}, Legs: 4}, time.Second)
	var ie *replay.InputError
	if !errors.As(err, &ie) || err.Error() != "batchSize 20000: must be from 1 to 10000" {
		t.Errorf("a leg with a batch size of 20000: %v; want the *InputError alone", err)
	}

	// Anything else names the leg.
	job := replay.Job{Options: replay.Options{Bucket: fmt.Sprintf("missing-%d", time.Now().UnixNano()), Prefix: "events/"}, Legs: 4}
	got, err := replay.RunLeg(context.Background(), s3c, &batches{}, job, time.Second)
	if err == nil || !strings.HasPrefix(err.Error(), "leg 5: list s3://"+job.Bucket+"/events/: ") || errors.As(err, &ie) {
		t.Errorf("a leg over a missing bucket: %v; want an error that names leg 5 and the listing", err)
	}
	if got.Legs != 4 || got.Done {
		t.Errorf("the failed leg changed the job: %+v", got)
	}
}
