package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/pipeline"
)

// noStart is a Step Functions client that fails the test if the starter starts anything.
type noStart struct{ t *testing.T }

func (n noStart) StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	n.t.Error("an execution was started for an event that names no data set")
	return nil, errors.New("not started")
}

func TestStarterRefusesAnEventThatNamesNoDataSet(t *testing.T) {
	for _, tc := range []struct {
		name, detailType, detail, want string
	}{
		{"DataSetReady not JSON", observer.DataSetReady, `{"dataSet":`, `DataSetReady detail {"dataSet":: unexpected end of JSON input`},
		{"DataSetReady without data set", observer.DataSetReady, `{"objects":3,"completion":1}`, `DataSetReady detail {"objects":3,"completion":1}: no dataSet`},
		{"object without bucket", "Object Created", `{"object":{"key":"in/a.csv"}}`, `Object Created detail {"object":{"key":"in/a.csv"}}: no bucket name or object key`},
		{"object without key", "Object Created", `{"bucket":{"name":"drops"},"object":{}}`, `Object Created detail {"bucket":{"name":"drops"},"object":{}}: no bucket name or object key`},
		{"object not JSON", "Object Created", `[]`, "Object Created detail []: json: cannot unmarshal array"},
		{"another type", "Object Deleted", `{}`, `event of detail type "Object Deleted": the starter takes DataSetReady or Object Created`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an event the starter cannot take WHEN it is handled
			s := &pipeline.Starter{SFN: noStart{t}, StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:process"}
			_, err := s.Handle(context.Background(), events.CloudWatchEvent{DetailType: tc.detailType, Detail: json.RawMessage(tc.detail)})

			// THEN nothing is started and the error shows the event's detail and why
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
