package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/test/moto"
	"github.com/eventlake/eventlake/test/rehearsal/cfn"
	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

var materialized struct {
	once sync.Once
	a    *cfn.Assembly
	d    *cfn.Deployment
	err  error
}

// blueprint materializes the blueprint's assembly ($EVENTLAKE_ASSEMBLY, which `make test` sets to the cdk.out it
// synthesizes) in moto, once per test binary. Without it the test is skipped, loudly, and fails under CI=true.
func blueprint(t *testing.T, cfg aws.Config) (*cfn.Assembly, *cfn.Deployment) {
	t.Helper()
	dir := cfn.AssemblyDir(t)
	materialized.once.Do(func() {
		start := time.Now()
		if materialized.a, materialized.err = cfn.Load(dir); materialized.err != nil {
			return
		}
		materialized.d, materialized.err = cfn.Materialize(context.Background(), cfg, materialized.a)
		t.Logf("materialized the blueprint in %s", time.Since(start).Round(time.Millisecond))
	})
	if materialized.err != nil {
		t.Fatal(materialized.err)
	}
	return materialized.a, materialized.d
}

// deployedFunction finds the function a mapping names (by name or ARN) and runs its asset's bootstrap under qemu
// with its resolved environment, closed when the test ends.
func deployedFunction(t *testing.T, a *cfn.Assembly, d *cfn.Deployment, nameOrARN string, endpoints map[string]string) *lambdart.Function {
	t.Helper()
	for _, f := range a.Functions {
		ref, _ := d.Ref(f.Stack, f.LogicalID)
		fa, _ := d.Attr(f.Stack, f.LogicalID, "Arn")
		if nameOrARN != ref && nameOrARN != fa {
			continue
		}
		fn, err := lambdart.NewFunction(lambdart.Config{
			Name: ref, AssetDir: f.AssetDir, Timeout: time.Duration(f.Timeout) * time.Second, MemoryMB: f.MemorySize,
			Region: d.Region, Account: d.AccountID, Environment: d.Environment(f),
			Credentials: lambdart.StaticCredentials("testing", "testing", ""), EndpointURL: moto.Endpoint(t), ServiceEndpoints: endpoints,
			QEMU: lambdart.QEMU(t), Echo: t,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fn.Close() })
		return fn
	}
	t.Fatalf("no function of the assembly is %s", nameOrARN)
	return nil
}

func TestBlueprintSources(t *testing.T) {
	// GIVEN the blueprint materialized in moto
	cfg := moto.Config(t)
	a, d := blueprint(t, cfg)
	ctx := context.Background()
	none := InvokerFunc(func(context.Context, []byte) ([]byte, error) { return nil, errors.New("not invoked in this test") })

	// THEN every mapping and delivery stream of its templates makes a driver on what was materialized
	var listener, trigger *StreamSettings
	var lakeStream *FirehoseSettings
	for _, r := range a.ResourcesOfType("Custom::EventlakeSubscription") {
		s, err := KinesisSettingsFrom(d.Properties(r.Stack, r.LogicalID))
		if err != nil {
			t.Errorf("%s %s: %v", r.Stack, r.LogicalID, err)
			continue
		}
		if _, err := NewKinesis(ctx, cfg, s, none); err != nil {
			t.Errorf("%s %s: %v", r.Stack, r.LogicalID, err)
		}
		if len(s.FilterPatterns) > 0 {
			listener = &s
		}
	}
	for _, r := range a.ResourcesOfType("AWS::Lambda::EventSourceMapping") {
		props := d.Properties(r.Stack, r.LogicalID)
		src, _ := arn.Parse(fmt.Sprint(props["EventSourceArn"]))
		var err error
		switch src.Service {
		case "sqs":
			var s SQSSettings
			if s, err = SQSSettingsFrom(props); err == nil {
				_, err = NewSQS(ctx, cfg, s, none)
			}
		case "dynamodb":
			var s StreamSettings
			if s, err = DynamoDBSettingsFrom(props); err == nil {
				_, err = NewDynamoDB(ctx, cfg, s, none)
				trigger = &s
			}
		default:
			err = fmt.Errorf("a mapping of %s", src.Service)
		}
		if err != nil {
			t.Errorf("%s %s: %v", r.Stack, r.LogicalID, err)
		}
	}
	for _, r := range a.ResourcesOfType("AWS::KinesisFirehose::DeliveryStream") {
		s, err := FirehoseSettingsFrom(d.Properties(r.Stack, r.LogicalID))
		if err == nil {
			s.DeliveryStreamName, err = d.Ref(r.Stack, r.LogicalID)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", r.Stack, r.LogicalID, err)
		}
		lakeStream = &s
	}
	if listener == nil || trigger == nil || lakeStream == nil {
		t.Fatalf("the blueprint's micro store listener (%v), trigger (%v) or lake delivery stream (%v) is missing", listener != nil, trigger != nil, lakeStream != nil)
	}

	// WHEN events reach the stream, the lake's delivery stream and the orders micro store (its listener subscribed
	// with a type filter, its trigger on the table's stream with the INSERT filter) run their own bootstraps
	transform := deployedFunction(t, a, d, lakeStream.Processor.LambdaARN, nil)
	fire, err := NewFirehose(ctx, cfg, *lakeStream, transform, WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	lst, err := NewKinesis(ctx, cfg, *listener, deployedFunction(t, a, d, listener.FunctionName, nil), WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	logic := deployedFunction(t, a, d, trigger.FunctionName, nil)
	trg, err := NewDynamoDB(ctx, cfg, *trigger, logic, WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for i, ev := range []struct{ typ, key string }{{"order-created", "o-1"}, {"payment-made", "p-1"}, {"order-shipped", "o-1"}, {"order-created", "o-2"}} {
		data := fmt.Sprintf(`{"id":"ev-%d","type":%q,"timestamp":%d,"partitionKey":%q}`, i, ev.typ, now+int64(i), ev.key)
		put(t, cfg, lst.StreamARN(), ev.key, []byte(data), "")
	}
	put(t, cfg, lst.StreamARN(), "junk", []byte("not json"), "")
	start := time.Now()
	for _, dr := range []interface{ Drain(context.Context) error }{fire, lst, trg} {
		drain(t, dr)
	}
	t.Logf("drained the lake, the listener and the trigger in %s", time.Since(start).Round(time.Millisecond))

	// THEN the listener got the order events only, and the trigger saw each order's history after its inserts
	if s := lst.Stats(); s.Records != 3 || s.Filtered != 2 || s.Succeeded != 3 {
		t.Errorf("listener stats %+v: want the 3 order events, 2 records filtered", s)
	}
	histories := map[string]int{}
	for _, line := range strings.Split(logic.Logs(), "\n") {
		var l struct {
			Msg    string `json:"msg"`
			Key    string `json:"key"`
			Events int    `json:"events"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "history" && l.Events > histories[l.Key] {
			histories[l.Key] = l.Events
		}
	}
	if histories["o-1"] != 2 || histories["o-2"] != 1 || len(histories) != 2 {
		t.Errorf("the trigger saw histories %v, want o-1 with 2 events and o-2 with 1", histories)
	}
	if s := trg.Stats(); s.Records != 3 || s.Succeeded != 3 {
		t.Errorf("trigger stats %+v: want the 3 inserts", s)
	}

	// AND the lake holds every event as a lake line, and the record that is not JSON under the error prefix
	var ids []string
	var errorObjects int
	for _, o := range fire.Objects() {
		if o.Error {
			errorObjects++
			continue
		}
		dec, err := lake.NewDecoder(bytes.NewReader(getObject(t, cfg, o.Bucket, o.Key)))
		if err != nil {
			t.Fatal(err)
		}
		for {
			l, _, err := dec.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			h, _ := l.Header()
			ids = append(ids, h.ID)
		}
		if !strings.HasPrefix(o.Key, "events/") || !strings.HasSuffix(o.Key, ".gz") {
			t.Errorf("lake object %s", o.Key)
		}
	}
	sort.Strings(ids)
	if want := []string{"ev-0", "ev-1", "ev-2", "ev-3"}; fmt.Sprint(ids) != fmt.Sprint(want) || errorObjects != 1 {
		t.Errorf("lake lines %v and %d error objects, want %v and 1", ids, errorObjects, want)
	}
}

func TestBlueprintObserverLoop(t *testing.T) {
	// GIVEN the blueprint materialized in moto, the lake's delivery stream, and the observer's monitor and observer on
	// their own bootstraps, their SQS calls through a DelayFront that makes the observer's delays (its template's
	// DELAY_SECONDS) 1 s
	cfg := moto.Config(t)
	a, d := blueprint(t, cfg)
	ctx := context.Background()
	delay := 0
	for _, f := range a.Functions {
		if env := d.Environment(f); env["UNCHANGED"] != "" {
			delay, _ = strconv.Atoi(env["DELAY_SECONDS"])
		}
	}
	if delay <= 0 {
		t.Fatal("the templates hold no observer with a DELAY_SECONDS")
	}
	front, err := NewDelayFront(moto.Endpoint(t), ScaleDelays(1/float64(delay)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	defer srv.Close()
	sqsFront := map[string]string{"SQS": srv.URL}
	var monitor, observer *SQS
	var topic string
	for _, r := range a.ResourcesOfType("AWS::Lambda::EventSourceMapping") {
		props := d.Properties(r.Stack, r.LogicalID)
		s, err := SQSSettingsFrom(props)
		if err != nil {
			continue // not a queue
		}
		fn := deployedFunction(t, a, d, s.FunctionName, sqsFront)
		q, err := NewSQS(ctx, cfg, s, fn, WithLogf(t.Logf), WithPollInterval(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Functions {
			if ref, _ := d.Ref(f.Stack, f.LogicalID); ref == s.FunctionName {
				if env := d.Environment(f); env["UNCHANGED"] != "" {
					observer, topic = q, env["TOPIC_ARN"]
				} else {
					monitor = q
				}
			}
		}
	}
	if monitor == nil || observer == nil || topic == "" {
		t.Fatalf("the blueprint's monitor (%v) or observer (%v) mapping, or the observer's topic %q, is missing", monitor != nil, observer != nil, topic)
	}
	announcements, announcementsARN := newQueue(t, cfg, nil)
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &announcementsARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	// moto cannot deliver an EventBridge event to a Lambda target (it fails PutEvents with NotImplementedError): the
	// pipeline's rule on DataSetReady would fail the observer's announcement. The pipeline is not under test here.
	eb := eventbridge.NewFromConfig(cfg)
	rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range rules.Rules {
		tg, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: rule.Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range tg.Targets {
			if strings.Contains(aws.ToString(target.Arn), ":lambda:") {
				t.Logf("removing target %s of rule %s: moto cannot deliver to Lambda", aws.ToString(target.Arn), aws.ToString(rule.Name))
				eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: rule.Name, Ids: []string{aws.ToString(target.Id)}})
			}
		}
	}
	var lakeStream FirehoseSettings
	for _, r := range a.ResourcesOfType("AWS::KinesisFirehose::DeliveryStream") {
		if lakeStream, err = FirehoseSettingsFrom(d.Properties(r.Stack, r.LogicalID)); err != nil {
			t.Fatal(err)
		}
		lakeStream.DeliveryStreamName, _ = d.Ref(r.Stack, r.LogicalID)
	}
	fire, err := NewFirehose(ctx, cfg, lakeStream, deployedFunction(t, a, d, lakeStream.Processor.LambdaARN, nil), WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}

	// WHEN an event reaches the stream, the lake writes its object, S3 tells EventBridge, and the monitor and the
	// observer run until their queues are empty
	put(t, cfg, lakeStream.SourceStreamARN, "o-9", []byte(`{"id":"obs-1","type":"order-created","partitionKey":"o-9"}`), "")
	drain(t, fire)
	var object DeliveredObject
	for _, o := range fire.Objects() {
		if !o.Error {
			object = o
		}
	}
	// The monitor and the observer hand each other messages (a reading delayed 1 s, a new object): run both until
	// both queues are empty, delayed and in-flight messages counted, so the loop's end does not depend on timing.
	start := time.Now()
	for deadline := time.Now().Add(90 * time.Second); ; {
		drain(t, monitor)
		drain(t, observer)
		if queuesEmpty(t, cfg, monitor.QueueURL(), observer.QueueURL()) || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("the observer loop ran in %s: monitor %+v, observer %+v", time.Since(start).Round(time.Millisecond), monitor.Stats(), observer.Stats())

	// THEN the observer announced the object's hour ready on its topic, after readings DELAY_SECONDS apart as asked
	// (1 s apart here)
	parts := strings.SplitN(object.Key, "/", 6)
	dataSet := object.Bucket + "/" + strings.Join(parts[:5], "/") + "/"
	var found bool
	for _, body := range receiveAll(t, cfg, announcements) {
		var an struct {
			DataSet  string `json:"dataSet"`
			Objects  int    `json:"objects"`
			Readings int    `json:"readings"`
		}
		if json.Unmarshal([]byte(body), &an) == nil && an.DataSet == dataSet && an.Objects >= 1 && an.Readings >= 3 {
			found = true
		}
	}
	if !found {
		t.Errorf("no announcement of %s", dataSet)
	}
	delays := front.Delays()
	if len(delays) < 3 {
		t.Errorf("%d delayed sends, want a reading at least every step", len(delays))
	}
	for _, dl := range delays {
		if dl.Requested != time.Duration(delay)*time.Second || dl.Applied != time.Second {
			t.Errorf("delay %+v: want %d s asked, 1 s applied", dl, delay)
		}
	}
}

// queuesEmpty reports whether the queues hold no message, visible, in flight or delayed.
func queuesEmpty(t testing.TB, cfg aws.Config, urls ...string) bool {
	t.Helper()
	c := sqs.NewFromConfig(cfg)
	for _, url := range urls {
		out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range out.Attributes {
			if n != "0" {
				return false
			}
		}
	}
	return true
}
