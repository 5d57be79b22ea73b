package mapping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/customresource"
)

// LambdaAPI is the part of the Lambda API the mapper uses.
type LambdaAPI interface {
	CreateEventSourceMapping(context.Context, *lambda.CreateEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.CreateEventSourceMappingOutput, error)
	UpdateEventSourceMapping(context.Context, *lambda.UpdateEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.UpdateEventSourceMappingOutput, error)
	DeleteEventSourceMapping(context.Context, *lambda.DeleteEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.DeleteEventSourceMappingOutput, error)
	GetEventSourceMapping(context.Context, *lambda.GetEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error)
	lambda.ListEventSourceMappingsAPIClient
}

// RetryableCodes are the error codes the mapper retries: throttling, limits and a mapping that is busy.
var RetryableCodes = []string{
	"LimitExceededException", "TooManyRequestsException", "ResourceInUseException",
	"ProvisionedThroughputExceededException", "ThrottlingException", "ThrottledException",
}

// rateLimitWording finds a rate limit named inside an error's code or message. Lambda reports the Kinesis stream's
// own rate limit on CreateEventSourceMapping and UpdateEventSourceMapping as an InvalidParameterValueException whose
// message quotes Kinesis, as in "... (Service: AmazonKinesis; Status Code: 400; Error Code: LimitExceededException;
// Request ID: ...)" or "... Rate exceeded for stream ...". Whole words only: a quota such as
// AliasLimitExceededException is no rate limit, and retrying it cannot help.
var rateLimitWording = regexp.MustCompile(`(?i)\b(LimitExceededException|Rate exceeded|TooManyRequests(Exception)?|Throttl\w*|ProvisionedThroughputExceededException)\b`)

// rateLimited is true for an API error that names a rate limit in its code or its message, and unknown otherwise,
// so that every other error keeps the SDK's verdict: an InvalidParameterValueException about a bad property still
// fails at once.
func rateLimited(err error) aws.Ternary {
	var api smithy.APIError
	if errors.As(err, &api) && rateLimitWording.MatchString(api.ErrorCode()+" "+api.ErrorMessage()) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// NewRetryer returns the SDK's standard retryer set up for the mapper: the SDK's jittered exponential backoff
// (retry.ExponentialJitterBackoff, a random wait of up to 2^attempt seconds, and maxBackoff once that exceeds it),
// no retry quota, and no attempt limit but the context's deadline. Besides what the SDK retries (HTTP 500, 502, 503
// and 504, its throttling codes, connection errors) it retries RetryableCodes, HTTP 429 whatever its body, and any
// API error whose code or message names a rate limit (LimitExceededException, "Rate exceeded", TooManyRequests,
// throttling), such as the Kinesis limit Lambda reports inside an InvalidParameterValueException. Every other
// error, such as an InvalidParameterValueException about a bad property, fails at once.
func NewRetryer(maxBackoff time.Duration) aws.Retryer {
	codes := map[string]struct{}{}
	for _, c := range RetryableCodes {
		codes[c] = struct{}{}
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 1 << 20 // bounded by the deadline, not by a count
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables,
			retry.RetryableErrorCode{Codes: codes},
			retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{http.StatusTooManyRequests: {}}},
			retry.IsErrorRetryableFunc(rateLimited))
		o.Throttles = append(o.Throttles, retry.IsErrorThrottleFunc(rateLimited))
	})
}

// Mapper handles Custom::EventlakeSubscription events.
type Mapper struct {
	// Client calls the Lambda API; give it the retryer of NewRetryer.
	Client LambdaAPI
	// Logger logs what the mapper does. Default slog.Default().
	Logger *slog.Logger
	// PollInterval is the first wait between checks that a mapping has settled; it doubles up to 5 s. Default 500 ms.
	PollInterval time.Duration
}

// Handle is a customresource.Handler: it creates, updates or deletes the mapping and returns its UUID as the
// physical id, with the attributes UUID and EventSourceMappingArn.
func (m *Mapper) Handle(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
	switch event.RequestType {
	case cfn.RequestDelete:
		return event.PhysicalResourceID, nil, m.Delete(ctx, event.PhysicalResourceID)
	case cfn.RequestCreate:
		props, err := ParseProperties(event.ResourceProperties)
		if err != nil {
			return "", nil, err
		}
		return m.result(m.Create(ctx, props))
	case cfn.RequestUpdate:
		props, err := ParseProperties(event.ResourceProperties)
		if err != nil {
			return event.PhysicalResourceID, nil, err
		}
		old, oldErr := ParseProperties(event.OldResourceProperties)
		if oldErr != nil || !isUUID(event.PhysicalResourceID) {
			return m.result(m.Create(ctx, props))
		}
		return m.result(m.Update(ctx, event.PhysicalResourceID, old, props))
	}
	return event.PhysicalResourceID, nil, fmt.Errorf("unknown request type %q", event.RequestType)
}

func (m *Mapper) result(cfg *lambda.GetEventSourceMappingOutput, err error) (string, map[string]any, error) {
	if err != nil {
		if cfg != nil && cfg.UUID != nil {
			return *cfg.UUID, nil, err
		}
		return "", nil, err
	}
	return *cfg.UUID, map[string]any{"UUID": *cfg.UUID, "EventSourceMappingArn": aws.ToString(cfg.EventSourceMappingArn)}, nil
}

func (m *Mapper) log() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

// Create makes the mapping, or adopts the one that already maps the same function and source and brings it to the
// desired settings. It returns once the mapping has settled.
func (m *Mapper) Create(ctx context.Context, p Properties) (*lambda.GetEventSourceMappingOutput, error) {
	if existing, err := m.find(ctx, p); err != nil {
		return nil, err
	} else if existing != "" {
		m.log().Info("adopting the existing mapping", "uuid", existing, "function", p.FunctionName, "source", p.EventSourceArn)
		return m.updateInPlace(ctx, existing, p)
	}
	out, err := m.Client.CreateEventSourceMapping(ctx, createInput(p))
	var conflict *types.ResourceConflictException
	if errors.As(err, &conflict) { // made meanwhile by someone else: adopt it
		existing, ferr := m.find(ctx, p)
		if ferr != nil || existing == "" {
			return nil, fmt.Errorf("create mapping of %s on %s: %w", p.FunctionName, p.EventSourceArn, err)
		}
		return m.updateInPlace(ctx, existing, p)
	}
	if err != nil {
		return nil, fmt.Errorf("create mapping of %s on %s: %w", p.FunctionName, p.EventSourceArn, err)
	}
	m.log().Info("created mapping", "uuid", aws.ToString(out.UUID), "function", p.FunctionName, "source", p.EventSourceArn)
	return m.settle(ctx, aws.ToString(out.UUID))
}

// Update changes the mapping in place, or replaces it when the function, the source or the starting position change
// (those cannot be changed in place). A replacement has a new UUID, so CloudFormation deletes the old mapping —
// except when only the starting position changed: Lambda allows one mapping per function and source, so the old one
// is deleted first.
func (m *Mapper) Update(ctx context.Context, uuid string, old, p Properties) (*lambda.GetEventSourceMappingOutput, error) {
	sameTarget := old.FunctionName == p.FunctionName && old.EventSourceArn == p.EventSourceArn
	samePosition := old.StartingPosition == p.StartingPosition && timesEqual(old.StartingPositionTimestamp, p.StartingPositionTimestamp)
	switch {
	case sameTarget && samePosition:
		return m.updateInPlace(ctx, uuid, p)
	case sameTarget:
		m.log().Info("starting position changed: replacing the mapping", "uuid", uuid)
		if err := m.Delete(ctx, uuid); err != nil {
			return nil, err
		}
		return m.Create(ctx, p)
	default:
		return m.Create(ctx, p)
	}
}

// Delete deletes the mapping and waits until it is gone. A mapping that does not exist (any more) is not an error.
func (m *Mapper) Delete(ctx context.Context, uuid string) error {
	if !isUUID(uuid) {
		m.log().Info("nothing to delete", "physicalResourceId", uuid)
		return nil
	}
	_, err := m.Client.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: &uuid})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete mapping %s: %w", uuid, err)
	}
	for wait := m.firstPoll(); ; wait = nextPoll(wait) {
		_, err := m.Client.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: &uuid})
		if isNotFound(err) {
			m.log().Info("deleted mapping", "uuid", uuid)
			return nil
		}
		if err != nil {
			return fmt.Errorf("wait for mapping %s to be deleted: %w", uuid, err)
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("mapping %s is still being deleted: %w", uuid, err)
		}
	}
}

func (m *Mapper) updateInPlace(ctx context.Context, uuid string, p Properties) (*lambda.GetEventSourceMappingOutput, error) {
	if _, err := m.Client.UpdateEventSourceMapping(ctx, updateInput(uuid, p)); err != nil {
		if isNotFound(err) {
			return m.Create(ctx, p) // deleted behind CloudFormation's back: make it again
		}
		return nil, fmt.Errorf("update mapping %s: %w", uuid, err)
	}
	m.log().Info("updated mapping", "uuid", uuid)
	return m.settle(ctx, uuid)
}

// find returns the UUID of the mapping of p's function on p's source, if there is one.
func (m *Mapper) find(ctx context.Context, p Properties) (string, error) {
	pages := lambda.NewListEventSourceMappingsPaginator(m.Client, &lambda.ListEventSourceMappingsInput{
		EventSourceArn: &p.EventSourceArn, FunctionName: &p.FunctionName,
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list mappings of %s on %s: %w", p.FunctionName, p.EventSourceArn, err)
		}
		for _, c := range page.EventSourceMappings {
			if aws.ToString(c.EventSourceArn) == p.EventSourceArn && sameFunction(aws.ToString(c.FunctionArn), p.FunctionName) {
				return aws.ToString(c.UUID), nil
			}
		}
	}
	return "", nil
}

// settle waits until the mapping is no longer in a transitional state.
func (m *Mapper) settle(ctx context.Context, uuid string) (*lambda.GetEventSourceMappingOutput, error) {
	for wait := m.firstPoll(); ; wait = nextPoll(wait) {
		out, err := m.Client.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: &uuid})
		if err != nil {
			return &lambda.GetEventSourceMappingOutput{UUID: &uuid}, fmt.Errorf("read mapping %s: %w", uuid, err)
		}
		switch state := aws.ToString(out.State); state {
		case "Creating", "Enabling", "Updating", "Disabling", "Deleting":
			if err := sleep(ctx, wait); err != nil {
				return out, fmt.Errorf("mapping %s is still %s: %w", uuid, state, err)
			}
		default:
			return out, nil
		}
	}
}

func (m *Mapper) firstPoll() time.Duration {
	if m.PollInterval > 0 {
		return m.PollInterval
	}
	return 500 * time.Millisecond
}

func nextPoll(d time.Duration) time.Duration { return min(2*d, 5*time.Second) }

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func createInput(p Properties) *lambda.CreateEventSourceMappingInput {
	u := updateInput("", p)
	return &lambda.CreateEventSourceMappingInput{
		FunctionName: &p.FunctionName, EventSourceArn: &p.EventSourceArn,
		StartingPosition: p.StartingPosition, StartingPositionTimestamp: p.StartingPositionTimestamp,
		BatchSize: u.BatchSize, MaximumBatchingWindowInSeconds: u.MaximumBatchingWindowInSeconds,
		ParallelizationFactor: u.ParallelizationFactor, BisectBatchOnFunctionError: u.BisectBatchOnFunctionError,
		MaximumRetryAttempts: u.MaximumRetryAttempts, MaximumRecordAgeInSeconds: u.MaximumRecordAgeInSeconds,
		DestinationConfig: destination(p), FunctionResponseTypes: u.FunctionResponseTypes, FilterCriteria: filters(p),
		TumblingWindowInSeconds: u.TumblingWindowInSeconds, Enabled: u.Enabled, MetricsConfig: u.MetricsConfig,
	}
}

// updateInput sets every mutable setting, unset ones to Lambda's defaults for Kinesis, so that removing a property
// from the template removes it from the mapping.
func updateInput(uuid string, p Properties) *lambda.UpdateEventSourceMappingInput {
	in := &lambda.UpdateEventSourceMappingInput{
		UUID:                           &uuid,
		BatchSize:                      or(p.BatchSize, 100),
		MaximumBatchingWindowInSeconds: or(p.MaximumBatchingWindowInSeconds, 0),
		ParallelizationFactor:          or(p.ParallelizationFactor, 1),
		BisectBatchOnFunctionError:     aws.Bool(p.BisectBatchOnFunctionError != nil && *p.BisectBatchOnFunctionError),
		MaximumRetryAttempts:           or(p.MaximumRetryAttempts, -1),
		MaximumRecordAgeInSeconds:      or(p.MaximumRecordAgeInSeconds, -1),
		TumblingWindowInSeconds:        or(p.TumblingWindowInSeconds, 0),
		Enabled:                        aws.Bool(p.Enabled == nil || *p.Enabled),
		FunctionResponseTypes:          []types.FunctionResponseType{},
		DestinationConfig:              &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("")}},
		FilterCriteria:                 &types.FilterCriteria{Filters: []types.Filter{}},
		MetricsConfig:                  &types.EventSourceMappingMetricsConfig{Metrics: p.Metrics},
	}
	if p.ReportBatchItemFailures != nil && *p.ReportBatchItemFailures {
		in.FunctionResponseTypes = []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures}
	}
	if d := destination(p); d != nil {
		in.DestinationConfig = d
	}
	if f := filters(p); f != nil {
		in.FilterCriteria = f
	}
	if in.MetricsConfig.Metrics == nil {
		in.MetricsConfig.Metrics = []types.EventSourceMappingMetric{}
	}
	return in
}

func destination(p Properties) *types.DestinationConfig {
	if p.OnFailureDestination == "" {
		return nil
	}
	return &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: &p.OnFailureDestination}}
}

func filters(p Properties) *types.FilterCriteria {
	if len(p.FilterPatterns) == 0 {
		return nil
	}
	f := &types.FilterCriteria{}
	for _, pat := range p.FilterPatterns {
		f.Filters = append(f.Filters, types.Filter{Pattern: aws.String(pat)})
	}
	return f
}

func or(v *int32, def int32) *int32 {
	if v == nil {
		return &def
	}
	return v
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool {
	return uuidPattern.MatchString(s) && !strings.HasPrefix(s, customresource.FailedCreatePrefix)
}

// sameFunction compares a mapping's function ARN with the function as the template names it: a name, an ARN, or
// an alias or version ARN.
func sameFunction(mappingARN, name string) bool {
	if mappingARN == name {
		return true
	}
	if strings.HasPrefix(name, "arn:") {
		return false // a qualified ARN must match exactly
	}
	// A plain name matches the unqualified function ARN ...:function:<name>.
	return strings.HasSuffix(mappingARN, ":function:"+name)
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException" {
		return true
	}
	var resp *awshttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == 404
}
