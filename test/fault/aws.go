package fault

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A Behaviour makes a client answer as AWS does where moto answers otherwise: a duplicate event source mapping that
// AWS refuses and moto makes, a BatchWriteItem that AWS leaves partly unprocessed, and so on. Everything else the
// server (moto) still does: a Behaviour looks at the call's typed input, asks the server what it needs to know with a
// client of its own, and either lets the call through, changes it (a part of a batch held back and handed back as
// AWS does), or answers with AWS's error as an HTTP response that the SDK's own deserializer reads, so the caller
// gets the service's modelled error type (such as *types.ResourceConflictException) with its HTTP status.
//
// Install it like an [Injector], through a client's APIOptions:
//
//	aws := fault.LambdaAsAWS(cfg)
//	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, aws.Install) })
//	// a second CreateEventSourceMapping of the same function and source now fails with ResourceConflictException
//	// naming the first one's UUID; aws.Applied() counts the answers that differed from moto's
//
// A Behaviour runs in the initialize step, outside the SDK's retries: its errors are never retryable ones, and a call
// it changes is changed once, whatever the retryer does with the rest.
type Behaviour struct {
	name string
	ops  map[string]around

	mu      sync.Mutex
	applied map[string]int
}

// around handles one call of an operation: it returns the call's output, or an error, using next for the real call.
type around func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error)

// answerKey is the stack value under which a Behaviour hands the deserialize step the AWS answer to give.
type answerKey struct{}

// Install adds the Behaviour to a client's middleware stack; pass it as an APIOptions entry.
func (b *Behaviour) Install(stack *middleware.Stack) error {
	id := "fault." + b.name
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc(id, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		op, ok := b.ops[middleware.GetOperationName(ctx)]
		if !ok {
			return next.HandleInitialize(ctx, in)
		}
		var md middleware.Metadata
		out, err := op(ctx, b, in.Parameters, func(ctx context.Context, params any) (any, error) {
			in.Parameters = params
			o, m, err := next.HandleInitialize(ctx, in)
			md = m
			return o.Result, err
		})
		return middleware.InitializeOutput{Result: out}, md, err
	}), middleware.After)
	if err != nil {
		return fmt.Errorf("fault: add %s: %w", id, err)
	}
	answer := id + ".Answer"
	if _, ok := stack.Deserialize.Get(answer); ok {
		return nil
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(answer, func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		f, _ := middleware.GetStackValue(ctx, answerKey{}).(Fault)
		if f == nil {
			return next.HandleDeserialize(ctx, in)
		}
		req, ok := in.Request.(*smithyhttp.Request)
		if !ok {
			return middleware.DeserializeOutput{}, middleware.Metadata{}, fmt.Errorf("fault: request of type %T, want *smithyhttp.Request", in.Request)
		}
		resp, err := f(req.Build(ctx))
		if err != nil {
			return middleware.DeserializeOutput{}, middleware.Metadata{}, err
		}
		return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, middleware.Metadata{}, nil
	}), middleware.After)
}

// Applied returns how many calls of the operation (such as "CreateEventSourceMapping") got an answer that differs
// from what moto would have given: a test checks with it that the behaviour it is about was exercised.
func (b *Behaviour) Applied(operation string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.applied[operation]
}

func (b *Behaviour) count(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.applied == nil {
		b.applied = map[string]int{}
	}
	b.applied[middleware.GetOperationName(ctx)]++
}

// fail answers the call with AWS's error f (an HTTP response through the SDK's deserializer) instead of the server's.
func (b *Behaviour) fail(ctx context.Context, f Fault, in any, next func(context.Context, any) (any, error)) (any, error) {
	b.count(ctx)
	return next(middleware.WithStackValue(ctx, answerKey{}, f), in)
}

// LambdaAsAWS makes a Lambda client answer event source mapping calls as Lambda does, where moto does not:
//
//   - CreateEventSourceMapping of a function and source that already have a mapping fails with
//     ResourceConflictException (HTTP 409) naming the existing mapping's UUID; moto makes a second mapping.
//   - DeleteEventSourceMapping and UpdateEventSourceMapping of a UUID that does not exist fail with
//     ResourceNotFoundException (404); moto answers them with success.
//
// It asks moto, with a client of its own made from cfg, what mappings exist.
func LambdaAsAWS(cfg aws.Config) *Behaviour {
	own := lambda.NewFromConfig(cfg)
	notFound := func(ctx context.Context, uuid *string) (bool, error) {
		_, err := own.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: uuid})
		if errorCode(err) == "ResourceNotFoundException" {
			return true, nil
		}
		return false, err
	}
	missing := func(ctx context.Context, b *Behaviour, uuid *string, in any, next func(context.Context, any) (any, error)) (any, error) {
		gone, err := notFound(ctx, uuid)
		if err != nil {
			return nil, fmt.Errorf("fault: LambdaAsAWS: look up mapping %s: %w", aws.ToString(uuid), err)
		}
		if gone {
			return b.fail(ctx, JSONError(404, "ResourceNotFoundException", "The resource you requested does not exist. (Service: Lambda, Status Code: 404)"), in, next)
		}
		return next(ctx, in)
	}
	return &Behaviour{name: "LambdaAsAWS", ops: map[string]around{
		"CreateEventSourceMapping": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			p := in.(*lambda.CreateEventSourceMappingInput)
			pages := lambda.NewListEventSourceMappingsPaginator(own, &lambda.ListEventSourceMappingsInput{FunctionName: p.FunctionName, EventSourceArn: p.EventSourceArn})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("fault: LambdaAsAWS: list mappings: %w", err)
				}
				for _, m := range page.EventSourceMappings {
					if aws.ToString(m.EventSourceArn) != aws.ToString(p.EventSourceArn) {
						continue
					}
					msg := fmt.Sprintf("The event source arn (\" %s \") and function (\" %s \") provided mapping already exists. Please update or delete the existing mapping with UUID %s",
						aws.ToString(p.EventSourceArn), functionName(aws.ToString(p.FunctionName)), aws.ToString(m.UUID))
					return b.fail(ctx, JSONError(409, "ResourceConflictException", msg), in, next)
				}
			}
			return next(ctx, in)
		},
		"DeleteEventSourceMapping": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			return missing(ctx, b, in.(*lambda.DeleteEventSourceMappingInput).UUID, in, next)
		},
		"UpdateEventSourceMapping": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			return missing(ctx, b, in.(*lambda.UpdateEventSourceMappingInput).UUID, in, next)
		},
	}}
}

// functionName is the name part of a function name, ARN or partial ARN, as Lambda names it in messages.
func functionName(s string) string {
	if a, err := arn.Parse(s); err == nil {
		s = strings.TrimPrefix(a.Resource, "function:")
	} else if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// DynamoDBAsAWS makes a DynamoDB client check writes as DynamoDB does, where moto does not: a BatchWriteItem with two
// requests for the same key of one table, or a TransactWriteItems with two actions on the same item, fails with
// ValidationException (400) and writes nothing. It reads each table's key schema from moto (DescribeTable), once,
// with a client of its own made from cfg.
func DynamoDBAsAWS(cfg aws.Config) *Behaviour {
	own := dynamodb.NewFromConfig(cfg)
	var mu sync.Mutex
	schemas := map[string][]string{}
	keyOf := func(ctx context.Context, table string, item map[string]dtypes.AttributeValue) (string, error) {
		mu.Lock()
		attrs, ok := schemas[table]
		mu.Unlock()
		if !ok {
			out, err := own.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
			if err != nil {
				return "", fmt.Errorf("fault: DynamoDBAsAWS: describe table %s: %w", table, err)
			}
			for _, k := range out.Table.KeySchema {
				attrs = append(attrs, aws.ToString(k.AttributeName))
			}
			mu.Lock()
			schemas[table] = attrs
			mu.Unlock()
		}
		var b strings.Builder
		b.WriteString(table)
		for _, a := range attrs {
			fmt.Fprintf(&b, "\x00%s=%s", a, attrString(item[a]))
		}
		return b.String(), nil
	}
	return &Behaviour{name: "DynamoDBAsAWS", ops: map[string]around{
		"BatchWriteItem": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			seen := map[string]bool{}
			for table, reqs := range in.(*dynamodb.BatchWriteItemInput).RequestItems {
				for _, r := range reqs {
					var item map[string]dtypes.AttributeValue
					switch {
					case r.PutRequest != nil:
						item = r.PutRequest.Item
					case r.DeleteRequest != nil:
						item = r.DeleteRequest.Key
					}
					k, err := keyOf(ctx, table, item)
					if err != nil {
						return nil, err
					}
					if seen[k] {
						return b.fail(ctx, JSONError(400, "ValidationException", "Provided list of item keys contains duplicates"), in, next)
					}
					seen[k] = true
				}
			}
			return next(ctx, in)
		},
		"TransactWriteItems": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			seen := map[string]bool{}
			for _, it := range in.(*dynamodb.TransactWriteItemsInput).TransactItems {
				var table *string
				var item map[string]dtypes.AttributeValue
				switch {
				case it.Put != nil:
					table, item = it.Put.TableName, it.Put.Item
				case it.Update != nil:
					table, item = it.Update.TableName, it.Update.Key
				case it.Delete != nil:
					table, item = it.Delete.TableName, it.Delete.Key
				case it.ConditionCheck != nil:
					table, item = it.ConditionCheck.TableName, it.ConditionCheck.Key
				}
				k, err := keyOf(ctx, aws.ToString(table), item)
				if err != nil {
					return nil, err
				}
				if seen[k] {
					return b.fail(ctx, JSONError(400, "ValidationException", "Transaction request cannot include multiple operations on one item"), in, next)
				}
				seen[k] = true
			}
			return next(ctx, in)
		},
	}}
}

// attrString is a key attribute's value as a comparable string (key attributes are strings, numbers or binary).
func attrString(v dtypes.AttributeValue) string {
	switch v := v.(type) {
	case *dtypes.AttributeValueMemberS:
		return "S:" + v.Value
	case *dtypes.AttributeValueMemberN:
		return "N:" + v.Value
	case *dtypes.AttributeValueMemberB:
		return fmt.Sprintf("B:%x", v.Value)
	case nil:
		return "-"
	}
	return fmt.Sprintf("%T:%v", v, reflect.ValueOf(v).Elem().Interface())
}

// Unprocessed makes BatchWriteItem leave the requests pick chooses unprocessed, as DynamoDB does when a partition is
// throttled: they are not sent to the server, and come back in the output's UnprocessedItems, in their request's
// form; the others are written. A call whose every request is picked writes nothing and succeeds, as DynamoDB
// answers it. call numbers the BatchWriteItem calls from 1 (each attempt of the caller's is a call). pick is called
// one request at a time, never concurrently, so it may keep state of its own without a lock.
func Unprocessed(pick func(call int, table string, req dtypes.WriteRequest) bool) *Behaviour {
	var mu sync.Mutex
	calls := 0
	return &Behaviour{name: "Unprocessed", ops: map[string]around{
		"BatchWriteItem": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			p := in.(*dynamodb.BatchWriteItemInput)
			send := *p
			send.RequestItems = map[string][]dtypes.WriteRequest{}
			held := map[string][]dtypes.WriteRequest{}
			mu.Lock()
			calls++
			for table, reqs := range p.RequestItems {
				for _, r := range reqs {
					if pick(calls, table, r) {
						held[table] = append(held[table], r)
					} else {
						send.RequestItems[table] = append(send.RequestItems[table], r)
					}
				}
			}
			mu.Unlock()
			if len(held) == 0 {
				return next(ctx, in)
			}
			b.count(ctx)
			out := &dynamodb.BatchWriteItemOutput{}
			if len(send.RequestItems) > 0 {
				res, err := next(ctx, &send)
				if err != nil {
					return res, err
				}
				out = res.(*dynamodb.BatchWriteItemOutput)
			}
			if out.UnprocessedItems == nil {
				out.UnprocessedItems = map[string][]dtypes.WriteRequest{}
			}
			for table, reqs := range held {
				out.UnprocessedItems[table] = append(out.UnprocessedItems[table], reqs...)
			}
			return out, nil
		},
	}}
}

// FailRecords makes PutRecords fail the entries pick chooses, as Kinesis does when a shard is over its limit: they
// are not sent to the server, and their result entries (at their positions) carry ErrorCode
// ProvisionedThroughputExceededException and Kinesis's message; FailedRecordCount counts them. A call whose every
// entry is picked succeeds with every entry failed, as Kinesis answers it. call numbers the PutRecords calls from 1;
// i is the entry's position in the call. pick is called one entry at a time, never concurrently, so it may keep state
// of its own without a lock.
func FailRecords(pick func(call, i int, e ktypes.PutRecordsRequestEntry) bool) *Behaviour {
	var mu sync.Mutex
	calls := 0
	return &Behaviour{name: "FailRecords", ops: map[string]around{
		"PutRecords": func(ctx context.Context, b *Behaviour, in any, next func(context.Context, any) (any, error)) (any, error) {
			p := in.(*kinesis.PutRecordsInput)
			failed := make([]bool, len(p.Records))
			send := *p
			send.Records = nil
			mu.Lock()
			calls++
			for i, e := range p.Records {
				if failed[i] = pick(calls, i, e); !failed[i] {
					send.Records = append(send.Records, e)
				}
			}
			mu.Unlock()
			if len(send.Records) == len(p.Records) {
				return next(ctx, in)
			}
			b.count(ctx)
			var sent []ktypes.PutRecordsResultEntry
			if len(send.Records) > 0 {
				res, err := next(ctx, &send)
				if err != nil {
					return res, err
				}
				sent = res.(*kinesis.PutRecordsOutput).Records
			}
			stream := aws.ToString(p.StreamName)
			if a, err := arn.Parse(aws.ToString(p.StreamARN)); err == nil {
				stream = strings.TrimPrefix(a.Resource, "stream/")
			}
			out := &kinesis.PutRecordsOutput{}
			for i := range p.Records {
				if failed[i] {
					out.Records = append(out.Records, ktypes.PutRecordsResultEntry{
						ErrorCode:    aws.String("ProvisionedThroughputExceededException"),
						ErrorMessage: aws.String(fmt.Sprintf("Rate exceeded for shard shardId-000000000000 in stream %s under account 123456789012.", stream)),
					})
					out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
					continue
				}
				out.Records = append(out.Records, sent[0])
				if sent[0].ErrorCode != nil {
					out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
				}
				sent = sent[1:]
			}
			if out.FailedRecordCount == nil {
				out.FailedRecordCount = aws.Int32(0)
			}
			return out, nil
		},
	}}
}

// errorCode is the AWS error code of err, "" when it is none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
