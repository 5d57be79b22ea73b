package cfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// topicAttributes are the AWS::SNS::Topic properties that are topic attributes of the same name and meaning.
var topicAttributes = []string{
	"ContentBasedDeduplication", "DisplayName", "FifoThroughputScope", "FifoTopic", "KmsMasterKeyId",
	"SignatureVersion", "TracingConfig",
}

// createTopic creates an AWS::SNS::Topic with its attributes and subscriptions. Its Ref is its ARN.
func createTopic(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.sns
	fifo, _ := p.boolean("FifoTopic")
	var name string
	switch {
	case p.has("TopicName"):
		name = p.str("TopicName")
	case fifo:
		name = physicalName(m.d.RunID, r.Stack, r.LogicalID, 251, false) + ".fifo"
	default:
		name = physicalName(m.d.RunID, r.Stack, r.LogicalID, 256, false)
	}
	attrs := map[string]string{}
	for _, a := range topicAttributes {
		if p.has(a) {
			attrs[a] = p.str(a)
		}
	}
	if p.has("ArchivePolicy") {
		attrs["ArchivePolicy"] = p.jsonDoc("ArchivePolicy")
	}
	in := &sns.CreateTopicInput{Name: &name, Attributes: attrs}
	if p.has("DataProtectionPolicy") {
		in.DataProtectionPolicy = aws.String(p.jsonDoc("DataProtectionPolicy"))
	}
	subs := p.objs("Subscription")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.CreateTopic(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreateTopic: %w", err)
	}
	arn := aws.ToString(out.TopicArn)
	for _, s := range subs {
		_, err := c.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: &arn, Protocol: s.strp("Protocol"), Endpoint: s.strp("Endpoint"), ReturnSubscriptionArn: true,
		})
		if err != nil {
			return "", nil, fmt.Errorf("Subscribe %s: %w", s.str("Endpoint"), err)
		}
	}
	return arn, map[string]string{"TopicArn": arn, "TopicName": name}, nil
}

// subscriptionAttributes are the AWS::SNS::Subscription properties that are subscription attributes; the JSON ones
// are serialized.
var subscriptionAttributes = []string{"FilterPolicyScope", "RawMessageDelivery", "SubscriptionRoleArn"}
var subscriptionJSONAttributes = []string{"DeliveryPolicy", "FilterPolicy", "RedrivePolicy", "ReplayPolicy"}

// createSubscription creates an AWS::SNS::Subscription. Its Ref is its ARN.
func createSubscription(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	attrs := map[string]string{}
	for _, a := range subscriptionAttributes {
		if p.has(a) {
			attrs[a] = p.str(a)
		}
	}
	for _, a := range subscriptionJSONAttributes {
		if p.has(a) {
			attrs[a] = p.jsonDoc(a)
		}
	}
	in := &sns.SubscribeInput{
		TopicArn: p.strp("TopicArn"), Protocol: p.strp("Protocol"), Endpoint: p.strp("Endpoint"),
		Attributes: attrs, ReturnSubscriptionArn: true,
	}
	p.ignore("Region")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := m.c.sns.Subscribe(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("Subscribe: %w", err)
	}
	arn := aws.ToString(out.SubscriptionArn)
	return arn, map[string]string{"Arn": arn}, nil
}

// createTopicPolicy applies an AWS::SNS::TopicPolicy to each of its topics.
func createTopicPolicy(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	doc, topics := p.jsonDoc("PolicyDocument"), p.strs("Topics")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	for _, t := range topics {
		_, err := m.c.sns.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
			TopicArn: aws.String(t), AttributeName: aws.String("Policy"), AttributeValue: &doc,
		})
		if err != nil {
			m.gap(r, "SetTopicAttributes Policy of %s: %v", t, err)
		}
	}
	return physicalName(m.d.RunID, r.Stack, r.LogicalID, 255, false), nil, nil
}
