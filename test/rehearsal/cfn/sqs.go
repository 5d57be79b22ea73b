package cfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueAttributes are the AWS::SQS::Queue properties that are queue attributes of the same name and meaning.
var queueAttributes = []string{
	"ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
	"KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
	"ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
}

// createQueue creates an AWS::SQS::Queue with its attributes, redrive policy (to its dead-letter queue) included.
// Its Ref is its URL.
func createQueue(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.sqs
	fifo, _ := p.boolean("FifoQueue")
	var name string
	switch {
	case p.has("QueueName"):
		name = p.str("QueueName")
	case fifo:
		name = physicalName(m.d.RunID, r.Stack, r.LogicalID, 75, false) + ".fifo"
	default:
		name = physicalName(m.d.RunID, r.Stack, r.LogicalID, 80, false)
	}
	attrs := map[string]string{}
	for _, a := range queueAttributes {
		if p.has(a) {
			attrs[a] = p.str(a)
		}
	}
	for _, a := range []string{"RedrivePolicy", "RedriveAllowPolicy"} {
		if p.has(a) {
			attrs[a] = p.jsonDoc(a)
		}
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return "", nil, fmt.Errorf("CreateQueue: %w", err)
	}
	url := aws.ToString(out.QueueUrl)
	got, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", nil, fmt.Errorf("GetQueueAttributes: %w", err)
	}
	return url, map[string]string{
		"Arn": got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], "QueueName": name, "QueueUrl": url,
	}, nil
}

// createQueuePolicy applies an AWS::SQS::QueuePolicy to each of its queues (by URL).
func createQueuePolicy(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	doc, queues := p.jsonDoc("PolicyDocument"), p.strs("Queues")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	for _, q := range queues {
		_, err := m.c.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl: aws.String(q), Attributes: map[string]string{"Policy": doc},
		})
		if err != nil {
			m.gap(r, "SetQueueAttributes Policy of %s: %v", q, err)
		}
	}
	return physicalName(m.d.RunID, r.Stack, r.LogicalID, 255, false), nil, nil
}
