// Package pipeline starts processing when a data set is ready, without a scheduler (docs/design.md, part 8).
//
// The default engine is a Step Functions state machine: [Starter] starts an execution for each DataSetReady event,
// named after the data set and its completion, so a duplicate notification starts nothing new. The seed's engine,
// AWS Data Pipeline (closed to new customers), is kept as [DataPipeline] for those who still run one: it clones a
// finished template pipeline and activates the clone.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/eventlake/eventlake/observer"
)

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ExecutionName names the run for one completion of one data set: stable, so a duplicate starts nothing new, and
// within Step Functions' 80 characters of [A-Za-z0-9_-] (a hash keeps long names distinct).
func ExecutionName(dataSet string, completion int64) string {
	suffix := fmt.Sprintf("-c%d", completion)
	name := unsafe.ReplaceAllString(dataSet, "-")
	if len(name)+len(suffix) > 80 {
		sum := sha256.Sum256([]byte(dataSet))
		keep := 80 - len(suffix) - 13
		name = name[:keep] + "-" + hex.EncodeToString(sum[:6])
	}
	return name + suffix
}

// SFNAPI is the part of Step Functions the starter uses.
type SFNAPI interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Starter starts the state machine for each DataSetReady event.
type Starter struct {
	// SFN starts executions.
	SFN SFNAPI
	// StateMachineARN is the state machine to start.
	StateMachineARN string
}

// Handle starts one execution for the event's data set and completion — or, for an S3 "Object Created" event (the
// pipeline configured to run on each new object), for the object; a second delivery of the same event finds the
// execution there and starts nothing.
func (s *Starter) Handle(ctx context.Context, ev events.CloudWatchEvent) (string, error) {
	var a observer.Announcement
	switch ev.DetailType {
	case observer.DataSetReady:
		if err := json.Unmarshal(ev.Detail, &a); err != nil {
			return "", fmt.Errorf("DataSetReady detail %s: %w", ev.Detail, err)
		}
		if a.DataSet == "" {
			return "", fmt.Errorf("DataSetReady detail %s: no dataSet", ev.Detail)
		}
	case "Object Created":
		var o struct {
			Bucket struct{ Name string } `json:"bucket"`
			Object struct {
				Key       string `json:"key"`
				Sequencer string `json:"sequencer"`
			} `json:"object"`
		}
		if err := json.Unmarshal(ev.Detail, &o); err != nil {
			return "", fmt.Errorf("Object Created detail %s: %w", ev.Detail, err)
		}
		if o.Bucket.Name == "" || o.Object.Key == "" {
			return "", fmt.Errorf("Object Created detail %s: no bucket name or object key", ev.Detail)
		}
		a = observer.Announcement{DataSet: o.Bucket.Name + "/" + o.Object.Key, Objects: 1, ObservationID: o.Object.Sequencer}
	default:
		return "", fmt.Errorf("event of detail type %q: the starter takes %s or Object Created", ev.DetailType, observer.DataSetReady)
	}
	name := ExecutionName(a.DataSet, a.Completion)
	input, _ := json.Marshal(a)
	out, err := s.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &s.StateMachineARN, Name: &name, Input: strPtr(string(input))})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return name, nil // started already: a duplicate notification
	}
	if err != nil {
		return "", fmt.Errorf("start %s for %s: %w", name, a.DataSet, err)
	}
	return *out.ExecutionArn, nil
}

func strPtr(s string) *string { return &s }
