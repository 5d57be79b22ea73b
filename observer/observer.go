package observer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/eventlake/eventlake/contract"
)

// EventSource is the source of the observer's EventBridge events.
const EventSource = contract.ObserverEventSource

// Detail types of the observer's events.
const (
	// DataSetReady announces a complete data set.
	DataSetReady = contract.DataSetReady
	// DataSetTimedOut announces an observation that gave up.
	DataSetTimedOut = contract.DataSetTimedOut
)

// Announcement is the detail of a DataSetReady or DataSetTimedOut event, and the body of its SNS message.
type Announcement struct {
	// DataSet is the bucket and prefix of the data set.
	DataSet string `json:"dataSet"`
	// Objects is its number of distinct objects (keys).
	Objects int64 `json:"objects"`
	// Overwrites is the number of new versions written over its objects (see [Monitor]).
	Overwrites int64 `json:"overwrites,omitempty"`
	// FirstChange is when its first object was counted; absent when none was (an expected data set that never arrived).
	FirstChange time.Time `json:"firstChange,omitzero"`
	// LastChange is when its last object (or overwrite) was counted; absent when none was.
	LastChange time.Time `json:"lastChange,omitzero"`
	// Completion numbers the data set's completions from 1 (DataSetReady only).
	Completion int64 `json:"completion,omitempty"`
	// ObservationID identifies the observation.
	ObservationID string `json:"observationId"`
	// Readings is the number of readings the observation took.
	Readings int64 `json:"readings"`
}

// EventsAPI is the part of EventBridge the observer uses.
type EventsAPI interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// TopicAPI is the part of SNS the observer uses.
type TopicAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Observer reads counters and announces complete data sets.
type Observer struct {
	Settings
	// Unchanged is N: the readings in a row without a change that make a data set complete. Default 3.
	Unchanged int
	// MaxWait is how long an observation may run before it gives up. Default 24 hours.
	MaxWait time.Duration
	// Events announces on EventBridge.
	Events EventsAPI
	// Bus is the event bus; empty is the default bus.
	Bus string
	// Topic announces on SNS.
	Topic TopicAPI
	// TopicARN is the topic.
	TopicARN string
	// Logger logs each reading. Default slog.Default().
	Logger *slog.Logger
}

// Handle takes a batch of readings; those that fail are reported so SQS delivers them again.
func (o *Observer) Handle(ctx context.Context, in events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, msg := range in.Records {
		var r Reading
		if err := json.Unmarshal([]byte(msg.Body), &r); err != nil || r.DataSet == "" || r.ObservationID == "" {
			o.log().WarnContext(ctx, "dropping a message that is not a reading", "messageId", msg.MessageId, "error", err)
			continue
		}
		if err := o.Read(ctx, r); err != nil {
			o.log().ErrorContext(ctx, "reading failed", "dataSet", r.DataSet, "step", r.Step, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
		}
	}
	return resp, nil
}

func (o *Observer) log() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// Read takes one reading of an observation.
func (o *Observer) Read(ctx context.Context, r Reading) error {
	// Claim the step: a duplicate delivery, or a reading of an observation that has ended, finds it taken.
	upd := expression.Set(expression.Name("step"), expression.Value(r.Step))
	cond := expression.Name("observationId").Equal(expression.Value(r.ObservationID)).
		And(expression.Name("observing").Equal(expression.Value(true))).
		And(expression.Name("step").Equal(expression.Value(r.Step - 1)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	out, err := o.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &o.Table, Key: key(r.DataSet), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return o.owed(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("claim reading %d of %s: %w", r.Step, r.DataSet, err)
	}
	c, err := unmarshalCounter(out.Attributes)
	if err != nil {
		return err
	}
	repeated := 0
	if changes := c.Changes(); changes > 0 && changes == r.LastCount {
		repeated = r.Repeated + 1
	}
	o.log().InfoContext(ctx, "reading", "dataSet", r.DataSet, "step", r.Step, "objects", c.Count, "overwrites", c.Overwrites, "unchangedReadings", repeated)
	n := o.Unchanged
	if n == 0 {
		n = 3
	}
	maxWait := o.MaxWait
	if maxWait == 0 {
		maxWait = 24 * time.Hour
	}
	switch {
	case repeated >= n:
		return o.end(ctx, r, c, "completions", DataSetReady)
	case o.now().Sub(time.UnixMilli(c.StartedAt)) >= maxWait:
		return o.end(ctx, r, c, "timeouts", DataSetTimedOut)
	}
	next := Reading{DataSet: r.DataSet, ObservationID: r.ObservationID, Step: r.Step + 1, LastCount: c.Changes(), Repeated: repeated}
	return o.send(ctx, next, o.delay(repeated))
}

// end closes the observation — once: the write is conditional on the step this reading claimed — and announces it.
func (o *Observer) end(ctx context.Context, r Reading, c Counter, tally, detailType string) error {
	upd := expression.Set(expression.Name("observing"), expression.Value(false)).
		Set(expression.Name("pending"), expression.Value(detailType)).
		Add(expression.Name(tally), expression.Value(1))
	cond := expression.Name("observationId").Equal(expression.Value(r.ObservationID)).And(expression.Name("step").Equal(expression.Value(r.Step)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	out, err := o.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &o.Table, Key: key(r.DataSet), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return nil // ended already
	}
	if err != nil {
		return fmt.Errorf("end the observation of %s: %w", r.DataSet, err)
	}
	if c, err = unmarshalCounter(out.Attributes); err != nil {
		return err
	}
	return o.announceOwed(ctx, r, c)
}

// owed handles a reading whose step is taken: a duplicate, or the retry of a reading that ended the observation but
// could not announce it — then it announces now.
func (o *Observer) owed(ctx context.Context, r Reading) error {
	out, err := o.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &o.Table, Key: key(r.DataSet), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read %s: %w", r.DataSet, err)
	}
	c, err := unmarshalCounter(out.Item)
	if err != nil {
		return err
	}
	if c.Pending != "" && c.ObservationID == r.ObservationID && c.Step == r.Step {
		return o.announceOwed(ctx, r, c)
	}
	o.log().InfoContext(ctx, "duplicate or stale reading: nothing to do", "dataSet", r.DataSet, "observationId", r.ObservationID, "step", r.Step)
	return nil
}

// announceOwed makes the pending announcement, then clears it.
func (o *Observer) announceOwed(ctx context.Context, r Reading, c Counter) error {
	detailType := c.Pending
	a := Announcement{DataSet: r.DataSet, Objects: c.Count, Overwrites: c.Overwrites, FirstChange: utcMillis(c.FirstChange), LastChange: utcMillis(c.LastChange),
		ObservationID: r.ObservationID, Readings: r.Step}
	if detailType == DataSetReady {
		a.Completion = c.Completions
	}
	if err := o.announce(ctx, detailType, a); err != nil {
		return err
	}
	upd := expression.Remove(expression.Name("pending"))
	cond := expression.Name("observationId").Equal(expression.Value(r.ObservationID)).And(expression.Name("step").Equal(expression.Value(r.Step)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = o.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &o.Table, Key: key(r.DataSet), UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("clear the announcement of %s: %w", r.DataSet, err)
	}
	return nil
}

// utcMillis is the time of epoch milliseconds, the zero time for 0 (never).
func utcMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (o *Observer) announce(ctx context.Context, detailType string, a Announcement) error {
	detail, err := jsonString(a)
	if err != nil {
		return err
	}
	if o.Events != nil {
		entry := ebtypes.PutEventsRequestEntry{Source: aws.String(EventSource), DetailType: aws.String(detailType), Detail: &detail}
		if o.Bus != "" {
			entry.EventBusName = &o.Bus
		}
		out, err := o.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
		if err != nil {
			return fmt.Errorf("announce %s of %s on EventBridge: %w", detailType, a.DataSet, err)
		}
		if out.FailedEntryCount > 0 {
			return fmt.Errorf("announce %s of %s on EventBridge: %s", detailType, a.DataSet, aws.ToString(out.Entries[0].ErrorMessage))
		}
	}
	if o.Topic != nil {
		subject := fmt.Sprintf("Data set ready: %d objects", a.Objects)
		switch {
		case detailType == DataSetTimedOut && a.Objects == 0:
			subject = fmt.Sprintf("Data set never arrived: no object after %d readings", a.Readings)
		case detailType == DataSetTimedOut:
			subject = fmt.Sprintf("Data set observation gave up after %d readings", a.Readings)
		}
		if _, err := o.Topic.Publish(ctx, &sns.PublishInput{TopicArn: &o.TopicARN, Subject: &subject, Message: &detail,
			MessageAttributes: nil}); err != nil {
			return fmt.Errorf("announce %s of %s on SNS: %w", detailType, a.DataSet, err)
		}
	}
	o.log().InfoContext(ctx, "announced", "detailType", detailType, "dataSet", a.DataSet, "objects", a.Objects)
	return nil
}
