package observer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/contract"
)

// Watch names the data sets of a bucket: every object under Prefix belongs to the data set of its directory (the key
// up to its last "/"), or, with Depth, of its first Depth path segments after Prefix. It is package contract's type,
// which the construct sets as the monitor's watches.
type Watch = contract.Watch

// DataSetOf returns the data set of an object, "" when no watch covers it (package contract's rule, which the
// construct checks expectations against).
func DataSetOf(watches []Watch, bucket, key string) string {
	return contract.DataSetOf(watches, bucket, key)
}

// AttrExpiresAt is the counter table's time-to-live attribute (epoch seconds). Markers have it; counters do not, and
// never expire.
const AttrExpiresAt = contract.ObserverAttrExpiresAt

// DefaultRemember is how long a [Monitor] remembers a counted object when Remember is not set: the observer's default
// MaxWait (24 hours) plus the 14 days a dead-lettered event may wait before an operator redrives it.
const DefaultRemember = 24*time.Hour + 14*24*time.Hour

// Monitor counts created objects into the counter table, each object once.
//
// # Distinct objects
//
// EventBridge and SQS deliver at least once, so an event may come any number of times, in any order, in one batch or
// in later ones, before or after its data set completes. The monitor counts what the events say happened, not the
// events: an object is identified by its bucket, its key and its [Object.Identity] — the version id, or, without one,
// the event's sequencer. For each object it counts it writes marker items into the counter table, in one DynamoDB
// transaction with the counter's update:
//   - a write marker per identity ("#write <identity> <bucket>/<key>"), put only if absent: a redelivered event finds
//     it and changes nothing;
//   - a key marker per key ("#object <bucket>/<key>"): put only if absent, it makes the object a new one (the counter's
//     objects grow by one); present, the write is an overwrite (the counter's overwrites grow by one).
//
// The transaction commits the markers and the counter together or not at all, so a crash never loses an object nor
// counts one twice, and two monitors racing on the same event count it once. A batch costs one transaction per data
// set (per 49 of its objects) — the one counter update per data set per batch — plus one when the transaction's guess
// was wrong (the data set had no observation running, or an object's key was already known). A batch that holds only
// redeliveries writes nothing.
//
// # Overwrites
//
// A new version of a key already counted (a new version id, or a new sequencer in a bucket without versioning) is a
// change but not a new object: Counter.Objects stays, Counter.Overwrites grows, and the observer, which watches
// objects plus overwrites, starts its count of unchanged readings again — or, after a completion, observes the data
// set anew and announces a new completion with the same Objects and more Overwrites. A redelivery of any version,
// older or newer, changes nothing. An event without a version id, a sequencer or an ETag identifies its key only.
//
// # Forgetting
//
// Markers expire after Remember (DynamoDB's time to live; deletion comes up to a few days later still). An event
// redelivered after that counts again, and a write to a key last written before that counts as a new object.
type Monitor struct {
	Settings
	// Watches are the watched data sets.
	Watches []Watch
	// Remember is how long the monitor remembers a counted object: its markers' time to live. Keep it longer than
	// MaxWait plus any redelivery delay. Default [DefaultRemember]; the construct sets MaxWait plus 14 days.
	Remember time.Duration
	// Logger logs dropped messages. Default slog.Default().
	Logger *slog.Logger
}

// Object is one created object.
type Object struct {
	// Bucket and Key name the object.
	Bucket, Key string
	// VersionID is the version the event created; "" (or "null") in a bucket without versioning.
	VersionID string
	// Sequencer orders the events of a key; S3 sets it on every Object Created event.
	Sequencer string
	// ETag is the object's entity tag.
	ETag string
}

// Identity tells this write of the object from other writes of the same key: "v." and the version id when there is
// one (other than "null"), else "s." and the sequencer, else "e." and the ETag, else "-" (the key alone).
func (o Object) Identity() string {
	switch {
	case o.VersionID != "" && o.VersionID != "null":
		return "v." + url.QueryEscape(o.VersionID)
	case o.Sequencer != "":
		return "s." + url.QueryEscape(o.Sequencer)
	case o.ETag != "":
		return "e." + url.QueryEscape(strings.Trim(o.ETag, `"`))
	}
	return "-"
}

// The marker keys: "#" starts no data set, as no bucket name starts with it. The identity has no space (it is
// query-escaped), so a write marker's key names one identity and one object.
func keyMarker(o Object) string   { return "#object " + o.Bucket + "/" + o.Key }
func writeMarker(o Object) string { return "#write " + o.Identity() + " " + o.Bucket + "/" + o.Key }

// HandleS3 counts the ObjectCreated records (Put, Post, Copy, CompleteMultipartUpload) of an S3 notification.
func (m *Monitor) HandleS3(ctx context.Context, in events.S3Event) error {
	return m.Count(ctx, objectsOfS3(in.Records))
}

// message is any body the monitor's queue carries.
type message struct {
	DetailType string `json:"detail-type"`
	Detail     struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			VersionID string `json:"version-id"`
			Sequencer string `json:"sequencer"`
			ETag      string `json:"etag"`
		} `json:"object"`
	} `json:"detail"`
	Expect *Expectation `json:"expect"`
}

// HandleSQS takes a batch of queued messages: EventBridge "Object Created" events (what the observer construct
// wires) and S3 notifications, whose objects it counts, and expectations ({"expect": [Expectation]}, what a watch's
// schedule sends). A message that is none of them, or an expectation of a data set no watch names, is logged and
// dropped. When counting fails, every object message comes again (that counts nothing twice); a failed expectation
// comes again alone.
func (m *Monitor) HandleSQS(ctx context.Context, in events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var objects []Object
	var objectMessages []string
	for _, msg := range in.Records {
		var body message
		var n events.S3Event
		switch {
		case json.Unmarshal([]byte(msg.Body), &body) == nil && body.Expect != nil:
			if _, err := m.HandleExpectation(ctx, *body.Expect); errors.Is(err, errNotWatched) {
				m.log().WarnContext(ctx, "dropping an expectation", "messageId", msg.MessageId, "error", err)
			} else if err != nil {
				m.log().ErrorContext(ctx, "expectation failed", "messageId", msg.MessageId, "error", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
			}
		case body.DetailType == "Object Created":
			o := body.Detail.Object
			objects = append(objects, Object{Bucket: body.Detail.Bucket.Name, Key: o.Key, VersionID: o.VersionID, Sequencer: o.Sequencer, ETag: o.ETag})
			objectMessages = append(objectMessages, msg.MessageId)
		case json.Unmarshal([]byte(msg.Body), &n) == nil && len(n.Records) > 0:
			objects = append(objects, objectsOfS3(n.Records)...)
			objectMessages = append(objectMessages, msg.MessageId)
		default:
			m.log().WarnContext(ctx, "dropping a message that is neither an S3 event nor an expectation", "messageId", msg.MessageId)
		}
	}
	if err := m.Count(ctx, objects); err != nil {
		// Counting is by data set: every object message comes again; its objects already counted are not counted twice.
		m.log().ErrorContext(ctx, "counting failed", "objects", len(objects), "error", err)
		for _, id := range objectMessages {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
	}
	return resp, nil
}

func (m *Monitor) log() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

func objectsOfS3(records []events.S3EventRecord) []Object {
	var out []Object
	for _, r := range records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(strings.ReplaceAll(r.S3.Object.Key, "+", " ")) // S3 notification keys are URL-encoded
		if err != nil {
			key = r.S3.Object.Key
		}
		o := r.S3.Object
		out = append(out, Object{Bucket: r.S3.Bucket.Name, Key: key, VersionID: o.VersionID, Sequencer: o.Sequencer, ETag: o.ETag})
	}
	return out
}

// Count adds the objects it has not counted before to their data sets' counters, and starts an observation of each
// data set that gets a change and has none running. See [Monitor] for what counts once and what is a change.
func (m *Monitor) Count(ctx context.Context, objects []Object) error {
	byDataSet := map[string][]Object{}
	var order []string
	seen := map[string]bool{}
	for _, o := range objects {
		ds := DataSetOf(m.Watches, o.Bucket, o.Key)
		if ds == "" || seen[writeMarker(o)] { // unwatched, or the same event twice in the batch
			continue
		}
		seen[writeMarker(o)] = true
		if _, ok := byDataSet[ds]; !ok {
			order = append(order, ds)
		}
		byDataSet[ds] = append(byDataSet[ds], o)
	}
	for _, ds := range order {
		if err := m.countDataSet(ctx, ds, byDataSet[ds]); err != nil {
			return err
		}
	}
	return nil
}

// perTransaction is how many objects one transaction counts: two markers each, plus the counter, within DynamoDB's
// 100 actions.
const perTransaction = 49

func (m *Monitor) countDataSet(ctx context.Context, ds string, objects []Object) error {
	redelivered := false
	for len(objects) > 0 {
		n := min(len(objects), perTransaction)
		again, err := m.countSome(ctx, ds, objects[:n])
		if err != nil {
			return err
		}
		redelivered = redelivered || again
		objects = objects[n:]
	}
	if !redelivered {
		return nil
	}
	// A redelivery may come after a failure right behind the transaction that started this data set's observation,
	// before its first reading was sent: if no reading has claimed a step yet, send the first one again (the observer
	// drops a duplicate). Only redeliveries pay for this read.
	out, err := m.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &m.Table, Key: key(ds), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read %s: %w", ds, err)
	}
	c, err := unmarshalCounter(out.Item)
	if err != nil {
		return err
	}
	return m.resumeUnread(ctx, ds, c)
}

// countSome counts up to perTransaction objects of one data set in one transaction, retried with better guesses until
// it commits or finds every object counted already; it reports whether some were (a redelivery).
func (m *Monitor) countSome(ctx context.Context, ds string, objects []Object) (redelivered bool, err error) {
	type role struct {
		write   int    // index into pending of a write marker, or -1
		key     string // the key marker's key, or ""
		counter bool
	}
	pending := objects
	newKey := map[string]bool{} // guess, per key marker: absent (a new object); corrected when the transaction says otherwise
	for _, o := range pending {
		newKey[keyMarker(o)] = true
	}
	starting := false // guess: an observation is running (most batches come during one)
	remember := m.Remember
	if remember <= 0 {
		remember = DefaultRemember
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > 2*len(objects)+8 {
			return redelivered, fmt.Errorf("count %d objects of %s: no agreement after %d transactions", len(pending), ds, attempt-1)
		}
		now := m.now()
		expires := &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(remember).Unix())}
		var items []types.TransactWriteItem
		var roles []role
		var added, overwrites int64
		keyed := map[string]bool{}
		for i, o := range pending {
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: &m.Table, ConditionExpression: aws.String("attribute_not_exists(#k)"), ExpressionAttributeNames: map[string]string{"#k": AttrDataSet},
				Item: map[string]types.AttributeValue{
					AttrDataSet: &types.AttributeValueMemberS{Value: writeMarker(o)}, "of": &types.AttributeValueMemberS{Value: ds}, AttrExpiresAt: expires,
				},
			}})
			roles = append(roles, role{write: i})
			km := keyMarker(o)
			if keyed[km] { // another version of a key this transaction writes: an overwrite of it
				overwrites++
				continue
			}
			keyed[km] = true
			if newKey[km] {
				added++
				items = append(items, types.TransactWriteItem{Put: &types.Put{
					TableName: &m.Table, ConditionExpression: aws.String("attribute_not_exists(#k)"), ExpressionAttributeNames: map[string]string{"#k": AttrDataSet},
					Item: map[string]types.AttributeValue{
						AttrDataSet: &types.AttributeValueMemberS{Value: km}, "of": &types.AttributeValueMemberS{Value: ds}, AttrExpiresAt: expires,
					},
				}})
			} else {
				overwrites++
				items = append(items, types.TransactWriteItem{Update: &types.Update{
					TableName: &m.Table, Key: key(km), UpdateExpression: aws.String("SET #e = :e"), ConditionExpression: aws.String("attribute_exists(#k)"),
					ExpressionAttributeNames: map[string]string{"#k": AttrDataSet, "#e": AttrExpiresAt}, ExpressionAttributeValues: map[string]types.AttributeValue{":e": expires},
				}})
			}
			roles = append(roles, role{write: -1, key: km})
		}
		id := newID()
		upd, err := m.counterUpdate(ds, added, overwrites, now, starting, id)
		if err != nil {
			return redelivered, err
		}
		items = append(items, types.TransactWriteItem{Update: upd})
		roles = append(roles, role{write: -1, counter: true})

		_, err = m.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			if starting {
				return redelivered, m.first(ctx, ds, id)
			}
			return redelivered, nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return redelivered, fmt.Errorf("count %d objects of %s: %w", len(pending), ds, err)
		}
		duplicate := map[int]bool{}
		contended := false
		for i, r := range canceled.CancellationReasons {
			if i >= len(roles) {
				break
			}
			switch code := aws.ToString(r.Code); code {
			case "", "None":
			case "ConditionalCheckFailed":
				switch ro := roles[i]; {
				case ro.counter:
					starting = !starting // the observation was not running, or was
				case ro.key != "":
					newKey[ro.key] = !newKey[ro.key] // the key was known, or is not any more
				default:
					duplicate[ro.write] = true // counted before: a redelivery
				}
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				contended = true
			default:
				return redelivered, fmt.Errorf("count %d objects of %s: %s: %s", len(pending), ds, code, aws.ToString(r.Message))
			}
		}
		if len(duplicate) > 0 {
			redelivered = true
			var rest []Object
			for i, o := range pending {
				if !duplicate[i] {
					rest = append(rest, o)
				}
			}
			pending = rest
		}
		if contended {
			select {
			case <-ctx.Done():
				return redelivered, ctx.Err()
			case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
			}
		}
	}
	return redelivered, nil
}

// counterUpdate adds the counts to the data set's counter. Running, it requires an observation to be running; starting,
// it requires none and starts one: counting and starting commit together, so no counted change goes unobserved.
func (m *Monitor) counterUpdate(ds string, added, overwrites int64, now time.Time, starting bool, id string) (*types.Update, error) {
	ms := now.UnixMilli()
	upd := expression.Set(expression.Name("lastChange"), expression.Value(ms)).
		Set(expression.Name("firstChange"), expression.IfNotExists(expression.Name("firstChange"), expression.Value(ms)))
	if added > 0 {
		upd = upd.Add(expression.Name("objects"), expression.Value(added))
	}
	if overwrites > 0 {
		upd = upd.Add(expression.Name("overwrites"), expression.Value(overwrites))
	}
	cond := expression.Name("observing").Equal(expression.Value(true))
	if starting {
		upd = upd.Set(expression.Name("observing"), expression.Value(true)).
			Set(expression.Name("observationId"), expression.Value(id)).
			Set(expression.Name("step"), expression.Value(0)).
			Set(expression.Name("startedAt"), expression.Value(ms))
		cond = expression.AttributeNotExists(expression.Name("observing")).Or(expression.Name("observing").Equal(expression.Value(false)))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{TableName: &m.Table, Key: key(ds), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}, nil
}

// Expectation asks the monitor to expect a data set before its first object exists ([Settings.Expect]). The observer
// construct's schedule for a watch with Expect sends one to the monitor's queue as {"expect": {…}}, with Time the
// time of the schedule's event — the same in every delivery of that event, so its redeliveries name the same data
// set.
type Expectation struct {
	// Bucket is the watched bucket.
	Bucket string `json:"bucket"`
	// Prefix is the watch's prefix.
	Prefix string `json:"prefix"`
	// Layout is the data set's path after Prefix as a Go time layout, such as "2006/01/02/15/" for an hour of the lake.
	Layout string `json:"layout"`
	// Time is when the schedule fired: the data set expected is Layout applied to it, in UTC.
	Time time.Time `json:"time"`
}

// DataSet names the data set the expectation expects: Bucket, "/", Prefix, then Time in Layout (UTC).
func (x Expectation) DataSet() string {
	return contract.ExpectedDataSet(x.Bucket, x.Prefix, x.Layout, x.Time)
}

var errNotWatched = errors.New("not a data set of the monitor's watches")

// HandleExpectation expects the data set x names ([Settings.Expect]) and reports whether it started its observation.
// It refuses, with an error the queue handler drops, an expectation without a bucket, layout or time, or of a data set
// that no watch of the monitor would count objects into.
func (m *Monitor) HandleExpectation(ctx context.Context, x Expectation) (bool, error) {
	ds := x.DataSet()
	if x.Bucket == "" || x.Layout == "" || x.Time.IsZero() || !strings.HasSuffix(ds, "/") ||
		DataSetOf(m.Watches, x.Bucket, strings.TrimPrefix(ds, x.Bucket+"/")+"object") != ds {
		return false, fmt.Errorf("expectation %+v names data set %q: %w", x, ds, errNotWatched)
	}
	return m.Expect(ctx, ds)
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
