package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	dp "github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

func TestDataPipelineAbandonedCloneReportsWhetherItWasDeleted(t *testing.T) {
	for _, tc := range []struct {
		name         string
		deleteFails  bool
		wantState    string
		wantDeleting bool
	}{
		{"deleted", false, "deleted", false},
		{"delete fails", true, "PENDING", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a clone whose activation Data Pipeline refuses, and a delete that works or fails with a 500
			d, r, client := newAdapter(t)
			activate := &fault.Injector{Operation: "ActivatePipeline",
				Fault: fault.JSONError(400, "InvalidRequestException", "Pipeline cannot be activated")}
			del := &fault.Injector{Operation: "DeletePipeline", Fault: fault.JSONError(500, "InternalServiceError", "internal failure")}
			if !tc.deleteFails {
				del.Fault = nil // counts only
			}
			r.DataPipelineAPI = dp.NewFromConfig(moto.Config(t), func(o *dp.Options) {
				o.APIOptions = append(o.APIOptions, activate.Install, del.Install)
				o.RetryMaxAttempts = 1
			})

			// WHEN a data set is launched
			id, launched, err := d.Launch(context.Background(), "lake/x/", 1)

			// THEN the launch fails with the activation's error, and the clone is deleted so it never runs
			var api smithy.APIError
			if launched || err == nil || !strings.HasPrefix(err.Error(), "activate "+id+": ") ||
				!errors.As(err, &api) || api.ErrorCode() != "InvalidRequestException" {
				t.Fatalf("launched %v, error %v; want the activation's InvalidRequestException", launched, err)
			}
			if del.Calls() != 1 {
				t.Errorf("%d deletes of the clone, want 1", del.Calls())
			}
			// AND only when the delete fails does the error say so, naming the clone left behind
			deleting := strings.Contains(err.Error(), "and deleting the clone "+id+" failed: ")
			if deleting != tc.wantDeleting {
				t.Errorf("error %q: mentions a failed delete %v, want %v", err, deleting, tc.wantDeleting)
			}
			if s := state(t, client, id); s != tc.wantState {
				t.Errorf("clone %s is %s, want %s", id, s, tc.wantState)
			}
		})
	}
}
