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
)

// AttrDataSet is the counter table's partition key.
const AttrDataSet = "dataSet"

// Counter is a data set's counter item.
type Counter struct {
	// DataSet is the bucket and prefix of the data set.
	DataSet string `dynamodbav:"dataSet"`
	// Count is the number of objects created in it.
	Count int64 `dynamodbav:"objects"`
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
}

// DynamoAPI is the part of DynamoDB the monitor and the observer use.
type DynamoAPI interface {
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
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
	// LastCount is the count the previous reading saw (-1 before the first).
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
// set before its first object exists.
func (s *Settings) Start(ctx context.Context, dataSet string) (bool, error) {
	id := newID()
	now := s.now().UnixMilli()
	upd := expression.Set(expression.Name("observing"), expression.Value(true)).
		Set(expression.Name("observationId"), expression.Value(id)).
		Set(expression.Name("step"), expression.Value(0)).
		Set(expression.Name("startedAt"), expression.Value(now))
	cond := expression.AttributeNotExists(expression.Name("observing")).Or(expression.Name("observing").Equal(expression.Value(false)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, err
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: key(dataSet), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return false, nil // already observed
	}
	if err != nil {
		return false, fmt.Errorf("start observing %s: %w", dataSet, err)
	}
	return true, s.send(ctx, Reading{DataSet: dataSet, ObservationID: id, Step: 1, LastCount: -1}, s.delay(0))
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
