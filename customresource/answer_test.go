package customresource_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/eventlake/eventlake/customresource"
)

func TestFailureReasonIsCutAt2048Bytes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		want   string
	}{
		{"at the limit", strings.Repeat("r", 2048), strings.Repeat("r", 2048)},
		{"one byte over", strings.Repeat("r", 2049), strings.Repeat("r", 2045) + "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a handler that fails with a long reason
			// WHEN it runs
			a, _ := run(t, newRecorder(t, 0), func(context.Context, cfn.Event) (string, map[string]any, error) {
				return "", nil, errors.New(tc.reason)
			}, cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: "uuid-1"}, 5*time.Second)

			// THEN the reason is kept whole up to 2,048 bytes, and a longer one is cut to 2,048 bytes marked "..."
			// (CloudFormation takes no answer over 4,096 bytes)
			if a.Status != cfn.StatusFailed || a.Reason != tc.want {
				t.Errorf("status %s, reason of %d bytes ending %q; want FAILED with %d bytes ending %q",
					a.Status, len(a.Reason), a.Reason[max(0, len(a.Reason)-5):], len(tc.want), tc.want[len(tc.want)-5:])
			}
		})
	}
}

func TestFailedCreateIDNamesTheResourceAndTheRequest(t *testing.T) {
	for _, tc := range []struct {
		requestID, want string
	}{
		{"f47ac10b-58cc-4372-a567-0e02b2c3d479", "not-created-Sub-f47ac10b"},
		{"12345678", "not-created-Sub-12345678"},
		{"r-1", "not-created-Sub-r-1"},
	} {
		// GIVEN a Create whose handler fails before making anything
		r := newRecorder(t, 0)
		wrapped := customresource.Wrap(func(context.Context, cfn.Event) (string, map[string]any, error) {
			return "", nil, errors.New("no permission")
		}, customresource.Options{Logger: quiet})

		// WHEN it is answered
		err := wrapped(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, RequestID: tc.requestID,
			LogicalResourceID: "Sub", ResponseURL: r.URL})

		// THEN the physical id says nothing was created, for which resource, and the request's first 8 characters
		// tell two failed Creates of it apart
		if err != nil || len(r.answers) != 1 {
			t.Fatalf("error %v, %d answers", err, len(r.answers))
		}
		if got := r.answers[0].PhysicalResourceID; got != tc.want {
			t.Errorf("request %s: physical id %q, want %q", tc.requestID, got, tc.want)
		}
	}
}
