package observer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/contract"
)

// AttrDataSet is the counter table's partition key.
const AttrDataSet = contract.ObserverAttrDataSet

// Counter is a data set's counter item.
type Counter struct {
	// DataSet is the bucket and prefix of the data set.
	DataSet string `dynamodbav:"dataSet"`
	// Count is the number of distinct objects (keys) created in it.
	Count int64 `dynamodbav:"objects"`
	// Overwrites is the number of new versions written over keys it already counted.
	Overwrites int64 `dynamodbav:"overwrites"`
	// FirstChange is when its first object was counted, in epoch milliseconds.
	FirstChange int64 `dynamodbav:"firstChange"`
	// LastChange is when its last object was counted, in epoch milliseconds.
	LastChange int64 `dynamodbav:"lastChange"`
	// Observing is true while an observation runs.
	Observing bool `dynamodbav:"observing"`
	// ObservationID identifies the current (or last) observation.
	ObservationID string `dynamodbav:"observationId"`
	// Step is the last reading of the observation.
	Step int64 `dynamodbav:"step"`
	// StartedAt is when the observation started, in epoch milliseconds.
	StartedAt int64 `dynamodbav:"startedAt"`
	// Completions counts the data set's completions.
	Completions int64 `dynamodbav:"completions"`
	// Timeouts counts the observations that gave up.
	Timeouts int64 `dynamodbav:"timeouts"`
	// Pending is the announcement an ended observation still owes, until it is made.
	Pending string `dynamodbav:"pending,omitempty"`
	// ExpectedAt is when [Settings.Expect] started an observation of it before its first object, in epoch milliseconds;
	// zero when it never did.
	ExpectedAt int64 `dynamodbav:"expectedAt,omitempty"`
}

// Changes is what the observer watches for a change: the objects counted plus the overwrites.
func (c Counter) Changes() int64 { return c.Count + c.Overwrites }

// DynamoAPI is the part of DynamoDB the monitor and the observer use (the observer: UpdateItem and GetItem only).
type DynamoAPI interface {
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// QueueAPI is the part of SQS they use.
type QueueAPI interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Reading is the message that carries an observation from one reading to the next.
type Reading struct {
	// DataSet is the observed data set.
	DataSet string `json:"dataSet"`
	// ObservationID identifies the observation.
	ObservationID string `json:"observationId"`
	// Step numbers the readings of one observation from 1.
	Step int64 `json:"step"`
	// LastCount is the [Counter.Changes] the previous reading saw (-1 before the first).
	LastCount int64 `json:"lastCount"`
	// Repeated is how many readings in a row saw no change.
	Repeated int `json:"repeated"`
}

// Settings are what observing needs, shared by the monitor (which starts observations) and the observer.
type Settings struct {
	// DB holds the counters.
	DB DynamoAPI
	// Table is the counter table.
	Table string
	// Queue carries the readings.
	Queue QueueAPI
	// QueueURL is the observer's queue.
	QueueURL string
	// Strategy sets the wait between readings (default Constant) over the base delay Delay.
	Strategy Strategy
	// Delay is the base delay d; zero is no wait (the deployed observer's default is 30 s).
	Delay time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (s *Settings) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Settings) delay(repeated int) time.Duration {
	d := s.Delay
	st := s.Strategy
	if st == "" {
		st = Constant
	}
	return Delay(st, d, repeated)
}

func key(dataSet string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrDataSet: &types.AttributeValueMemberS{Value: dataSet}}
}

// Start starts an observation of dataSet unless one is running, and reports whether it did. Call it to watch a data
// set before its first object exists: the observation keeps polling an empty data set until MaxWait.
//
// Calling it again is safe: when it finds the observation it (or anyone) started still waiting for its first reading,
// it sends that reading again — a duplicate the observer drops — so a crash between the start and the send cannot
// leave an observation that is never read.
func (s *Settings) Start(ctx context.Context, dataSet string) (bool, error) {
	cond := expression.AttributeNotExists(expression.Name("observing")).Or(expression.Name("observing").Equal(expression.Value(false)))
	return s.start(ctx, dataSet, cond, false)
}

// Expect starts an observation of dataSet if the data set has never been seen — no object counted, no observation
// started, no earlier expectation — and reports whether it did. A schedule calls it (through the monitor, see
// [Expectation]) so that a data set that never arrives is announced: its observation ends after MaxWait with one
// DataSetTimedOut of 0 objects. A data set whose objects then arrive completes normally, once.
//
// Expect is idempotent: a second call for the same data set, at any time — before its first object, during its
// observation, after its completion or its give-up — starts nothing (like [Settings.Start], it only sends again the
// first reading of an observation that has never been read).
func (s *Settings) Expect(ctx context.Context, dataSet string) (bool, error) {
	return s.start(ctx, dataSet, expression.AttributeNotExists(expression.Name(AttrDataSet)), true)
}

func (s *Settings) start(ctx context.Context, dataSet string, cond expression.ConditionBuilder, expected bool) (bool, error) {
	id := newID()
	now := s.now().UnixMilli()
	upd := expression.Set(expression.Name("observing"), expression.Value(true)).
		Set(expression.Name("observationId"), expression.Value(id)).
		Set(expression.Name("step"), expression.Value(0)).
		Set(expression.Name("startedAt"), expression.Value(now))
	if expected {
		upd = upd.Set(expression.Name("expectedAt"), expression.Value(now))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, err
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: key(dataSet), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		old, err := unmarshalCounter(failed.Item)
		if err != nil {
			return false, err
		}
		return false, s.resumeUnread(ctx, dataSet, old) // observed already, or seen already
	}
	if err != nil {
		return false, fmt.Errorf("start observing %s: %w", dataSet, err)
	}
	return true, s.first(ctx, dataSet, id)
}

// first sends the first reading of an observation.
func (s *Settings) first(ctx context.Context, dataSet, observationID string) error {
	return s.send(ctx, Reading{DataSet: dataSet, ObservationID: observationID, Step: 1, LastCount: -1}, s.delay(0))
}

// resumeUnread sends again the first reading of a running observation that no reading has claimed yet (step 0): the
// one sent may be on its way — then the observer drops the second as a duplicate — or may never have been sent, when
// whoever started the observation failed right after.
func (s *Settings) resumeUnread(ctx context.Context, dataSet string, c Counter) error {
	if !c.Observing || c.Step != 0 || c.ObservationID == "" {
		return nil
	}
	return s.first(ctx, dataSet, c.ObservationID)
}

func (s *Settings) send(ctx context.Context, r Reading, delay time.Duration) error {
	body, err := jsonString(r)
	if err != nil {
		return err
	}
	_, err = s.Queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.QueueURL, MessageBody: &body, DelaySeconds: int32(delay / time.Second)})
	if err != nil {
		return fmt.Errorf("send reading %d of %s: %w", r.Step, r.DataSet, err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func isConditionFailed(err error) bool {
	var c *types.ConditionalCheckFailedException
	return errors.As(err, &c)
}

func unmarshalCounter(av map[string]types.AttributeValue) (Counter, error) {
	var c Counter
	err := attributevalue.UnmarshalMap(av, &c)
	return c, err
}
