package rehearsal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/test/rehearsal/cfn"
)

// TestLambdaForMoto shows what moto's Lambda API gets wrong about event source mappings and what the gate makes right
// (resignLambdaForMoto, lambdaForMoto): each case is tried straight to moto, where it must still go wrong (else the
// correction may go), and through the gate.
func TestLambdaForMoto(t *testing.T) {
	m := StartMoto(t)
	g, err := newGate(m.URL, Region, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	g.secrets[m.Admin.AccessKeyID] = m.Admin.SecretAccessKey
	streams := kinesis.NewFromConfig(m.Config(""))
	g.consumerExists = func(ctx context.Context, arn string) error {
		_, err := streams.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &arn})
		return err
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	ctx := context.Background()
	direct, gated := lambda.NewFromConfig(m.Config("")), lambda.NewFromConfig(m.Config(srv.URL))

	// GIVEN a stream, one of its consumers, and a function, in moto
	if _, err := streams.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("events"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sum, err := streams.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	stream := aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	reg, err := streams.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &stream, ConsumerName: aws.String("fanout")})
	if err != nil {
		t.Fatal(err)
	}
	consumer := aws.ToString(reg.Consumer.ConsumerARN)
	role, err := iam.NewFromConfig(m.Config("")).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("subscriber"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	spec := &cfn.Function{Runtime: "provided.al2023", Handler: "bootstrap", Timeout: 3, MemorySize: 128, Architectures: []string{"arm64"}}
	if err := createInMoto(ctx, gated, "subscriber", aws.ToString(role.Role.Arn), spec); err != nil {
		t.Fatal(err)
	}
	fnARN := "arn:aws:lambda:us-east-1:123456789012:function:subscriber"
	const unknown = "6d2f5bb5-3f5a-4c5c-9b1c-2d2b1f0a1b2c"

	t.Run("signatures of requests without a body or with an ARN in the query or path", func(t *testing.T) {
		calls := map[string]func(*lambda.Client) error{
			"ListEventSourceMappings": func(c *lambda.Client) error {
				_, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
				return err
			},
			"ListEventSourceMappings by source and function": func(c *lambda.Client) error {
				_, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{EventSourceArn: &stream, FunctionName: &fnARN})
				return err
			},
			"GetFunction by ARN": func(c *lambda.Client) error {
				_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &fnARN})
				return err
			},
			"GetEventSourceMapping of an unknown UUID": func(c *lambda.Client) error {
				_, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(unknown)})
				if errorCode(err) == "ResourceNotFoundException" {
					return nil // past the signature check
				}
				return err
			},
		}
		for name, call := range calls {
			// WHEN the admin, allowed everything, calls straight to moto THEN moto refuses the signature
			if err := call(direct); httpStatus(err) != http.StatusForbidden {
				t.Errorf("%s straight to moto: %v; moto no longer refuses its signature: the gate's resignLambdaForMoto may go", name, err)
			}
			// WHEN it calls through the gate THEN it is served
			if err := call(gated); err != nil {
				t.Errorf("%s through the gate: %v", name, err)
			}
		}
		// A request signed wrongly stays refused: the gate signs again only what it has verified.
		wrong := m.Admin
		wrong.SecretAccessKey += "x"
		bad := lambda.NewFromConfig(configFor(srv.URL, wrong))
		if err := calls["ListEventSourceMappings by source and function"](bad); errorCode(err) != "SignatureDoesNotMatch" {
			t.Errorf("a wrong secret through the gate: %v, want SignatureDoesNotMatch", err)
		}
	})

	t.Run("an enhanced fan-out consumer as the source", func(t *testing.T) {
		// GIVEN moto refuses a consumer as a mapping's source
		in := &lambda.CreateEventSourceMappingInput{FunctionName: &fnARN, EventSourceArn: &consumer, BatchSize: aws.Int32(10),
			StartingPosition: ltypes.EventSourcePositionTrimHorizon}
		if _, err := direct.CreateEventSourceMapping(ctx, in); errorCode(err) != "ResourceNotFoundException" {
			t.Errorf("a consumer as the source, straight to moto: %v; moto takes consumers now: the gate's emulation may go", err)
		}
		// WHEN the mapping is made through the gate, with another on the stream itself
		onConsumer, err := gated.CreateEventSourceMapping(ctx, in)
		if err != nil {
			t.Fatalf("a consumer as the source through the gate: %v", err)
		}
		onStream, err := gated.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fnARN, EventSourceArn: &stream,
			StartingPosition: ltypes.EventSourcePositionLatest})
		if err != nil {
			t.Fatal(err)
		}
		// THEN every answer names the consumer as its source, and lists tell the two apart
		if aws.ToString(onConsumer.EventSourceArn) != consumer || aws.ToInt32(onConsumer.BatchSize) != 10 {
			t.Errorf("created %+v", onConsumer)
		}
		got, err := gated.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: onConsumer.UUID})
		if err != nil || aws.ToString(got.EventSourceArn) != consumer || aws.ToString(got.FunctionArn) != fnARN {
			t.Errorf("get: %v %+v", err, got)
		}
		for source, want := range map[string]string{consumer: aws.ToString(onConsumer.UUID), stream: aws.ToString(onStream.UUID)} {
			list, err := gated.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(source), FunctionName: &fnARN})
			if err != nil || len(list.EventSourceMappings) != 1 || aws.ToString(list.EventSourceMappings[0].UUID) != want ||
				aws.ToString(list.EventSourceMappings[0].EventSourceArn) != source {
				t.Errorf("list by %s: %v %+v, want only %s", source, err, list, want)
			}
		}
		up, err := gated.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: onConsumer.UUID, BatchSize: aws.Int32(20)})
		if err != nil || aws.ToString(up.EventSourceArn) != consumer || aws.ToInt32(up.BatchSize) != 20 {
			t.Errorf("update: %v %+v", err, up)
		}
		for _, id := range []*string{onConsumer.UUID, onStream.UUID} {
			del, err := gated.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: id})
			if err != nil || aws.ToString(del.UUID) != aws.ToString(id) {
				t.Errorf("delete %s: %v %+v", aws.ToString(id), err, del)
			}
		}
	})

	t.Run("an unknown UUID", func(t *testing.T) {
		// GIVEN moto answers 200 to a delete or an update of a mapping it does not have
		if _, err := direct.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(unknown), BatchSize: aws.Int32(5)}); err != nil {
			t.Errorf("update of an unknown UUID straight to moto: %v; moto answers it now: the gate's correction may go", err)
		}
		// WHEN they go through the gate THEN they get Lambda's ResourceNotFoundException
		var nf *ltypes.ResourceNotFoundException
		if _, err := gated.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(unknown)}); !errors.As(err, &nf) {
			t.Errorf("delete of an unknown UUID through the gate: %v, want ResourceNotFoundException", err)
		}
		if _, err := gated.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(unknown), BatchSize: aws.Int32(5)}); !errors.As(err, &nf) {
			t.Errorf("update of an unknown UUID through the gate: %v, want ResourceNotFoundException", err)
		}
	})
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
