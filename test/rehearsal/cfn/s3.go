package cfn

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// createBucket creates an AWS::S3::Bucket with its versioning, encryption, public access block, lifecycle, ownership
// controls, access logging and notifications (EventBridge, queues, topics, functions).
func createBucket(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.s3
	name := m.name(r, p, "BucketName", 63, true)
	in := &s3.CreateBucketInput{Bucket: &name, ObjectLockEnabledForBucket: p.boolp("ObjectLockEnabled")}
	if m.d.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(m.d.Region),
		}
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		return "", nil, fmt.Errorf("CreateBucket: %w", err)
	}

	if v := p.obj("VersioningConfiguration"); v != nil {
		_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  &name,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(v.str("Status"))},
		})
		if err != nil {
			m.gap(r, "VersioningConfiguration: PutBucketVersioning: %v", err)
		}
	}
	if enc := p.obj("BucketEncryption"); enc != nil {
		var rules []s3types.ServerSideEncryptionRule
		for _, rule := range enc.objs("ServerSideEncryptionConfiguration") {
			sr := s3types.ServerSideEncryptionRule{BucketKeyEnabled: rule.boolp("BucketKeyEnabled")}
			if def := rule.obj("ServerSideEncryptionByDefault"); def != nil {
				sr.ApplyServerSideEncryptionByDefault = &s3types.ServerSideEncryptionByDefault{
					SSEAlgorithm:   s3types.ServerSideEncryption(def.str("SSEAlgorithm")),
					KMSMasterKeyID: def.strp("KMSMasterKeyID"),
				}
			}
			rules = append(rules, sr)
		}
		_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: &name, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: rules},
		})
		if err != nil {
			m.gap(r, "BucketEncryption: PutBucketEncryption: %v", err)
		}
	}
	if pab := p.obj("PublicAccessBlockConfiguration"); pab != nil {
		_, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket: &name,
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: pab.boolp("BlockPublicAcls"), BlockPublicPolicy: pab.boolp("BlockPublicPolicy"),
				IgnorePublicAcls: pab.boolp("IgnorePublicAcls"), RestrictPublicBuckets: pab.boolp("RestrictPublicBuckets"),
			},
		})
		if err != nil {
			m.gap(r, "PublicAccessBlockConfiguration: PutPublicAccessBlock: %v", err)
		}
	}
	if lc := p.obj("LifecycleConfiguration"); lc != nil {
		rules, err := lifecycleRules(lc)
		if err != nil {
			return "", nil, err
		}
		_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
			Bucket: &name, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
		})
		if err != nil {
			m.gap(r, "LifecycleConfiguration: PutBucketLifecycleConfiguration: %v", err)
		}
	}
	if oc := p.obj("OwnershipControls"); oc != nil {
		var rules []s3types.OwnershipControlsRule
		for _, rule := range oc.objs("Rules") {
			rules = append(rules, s3types.OwnershipControlsRule{ObjectOwnership: s3types.ObjectOwnership(rule.str("ObjectOwnership"))})
		}
		_, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
			Bucket: &name, OwnershipControls: &s3types.OwnershipControls{Rules: rules},
		})
		if err != nil {
			m.gap(r, "OwnershipControls: PutBucketOwnershipControls: %v", err)
		}
	}
	if lg := p.obj("LoggingConfiguration"); lg != nil {
		target := lg.str("DestinationBucketName")
		if target == "" {
			target = name // CloudFormation logs to the bucket itself when no destination is given
		}
		prefix := lg.str("LogFilePrefix")
		lg.ignore("TargetObjectKeyFormat")
		if lg.has("TargetObjectKeyFormat") {
			m.gap(r, "LoggingConfiguration.TargetObjectKeyFormat is not applied")
		}
		put := func(ctx context.Context) error {
			_, err := c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{
				Bucket: &name,
				BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{
					TargetBucket: &target, TargetPrefix: &prefix,
				}},
			})
			return err
		}
		if err := put(ctx); err != nil {
			// moto requires the target's policy (or ACL) to let the logging service write first; CloudFormation
			// creates that policy after this bucket, since the policy names this bucket.
			if errorCode(err) == "InvalidTargetBucketForLogging" {
				m.later(r, "LoggingConfiguration: PutBucketLogging", put)
			} else {
				m.gap(r, "LoggingConfiguration: PutBucketLogging: %v", err)
			}
		}
	}
	if nc := p.obj("NotificationConfiguration"); nc != nil {
		cfg := &s3types.NotificationConfiguration{}
		if eb := nc.obj("EventBridgeConfiguration"); eb != nil {
			if on, _ := eb.boolean("EventBridgeEnabled"); on {
				cfg.EventBridgeConfiguration = &s3types.EventBridgeConfiguration{}
			}
		}
		for _, q := range nc.objs("QueueConfigurations") {
			cfg.QueueConfigurations = append(cfg.QueueConfigurations, s3types.QueueConfiguration{
				QueueArn: q.strp("Queue"), Events: []s3types.Event{s3types.Event(q.str("Event"))}, Filter: notificationFilter(q),
			})
		}
		for _, t := range nc.objs("TopicConfigurations") {
			cfg.TopicConfigurations = append(cfg.TopicConfigurations, s3types.TopicConfiguration{
				TopicArn: t.strp("Topic"), Events: []s3types.Event{s3types.Event(t.str("Event"))}, Filter: notificationFilter(t),
			})
		}
		for _, f := range nc.objs("LambdaConfigurations") {
			cfg.LambdaFunctionConfigurations = append(cfg.LambdaFunctionConfigurations, s3types.LambdaFunctionConfiguration{
				LambdaFunctionArn: f.strp("Function"), Events: []s3types.Event{s3types.Event(f.str("Event"))}, Filter: notificationFilter(f),
			})
		}
		_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: &name, NotificationConfiguration: cfg, SkipDestinationValidation: aws.Bool(true),
		})
		if err != nil {
			m.gap(r, "NotificationConfiguration: PutBucketNotificationConfiguration: %v", err)
		}
	}

	attrs := map[string]string{
		"Arn":                 "arn:aws:s3:::" + name,
		"DomainName":          name + ".s3.amazonaws.com",
		"RegionalDomainName":  fmt.Sprintf("%s.s3.%s.amazonaws.com", name, m.d.Region),
		"DualStackDomainName": fmt.Sprintf("%s.s3.dualstack.%s.amazonaws.com", name, m.d.Region),
		"WebsiteURL":          fmt.Sprintf("http://%s.s3-website-%s.amazonaws.com", name, m.d.Region),
	}
	return name, attrs, nil
}

func notificationFilter(p *props) *s3types.NotificationConfigurationFilter {
	f := p.obj("Filter")
	if f == nil {
		return nil
	}
	key := f.obj("S3Key")
	if key == nil {
		return nil
	}
	var rules []s3types.FilterRule
	for _, rule := range key.objs("Rules") {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleName(rule.str("Name")), Value: rule.strp("Value")})
	}
	return &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
}

// lifecycleRules translates CloudFormation's lifecycle rules to the S3 API's.
func lifecycleRules(lc *props) ([]s3types.LifecycleRule, error) {
	var rules []s3types.LifecycleRule
	for _, rule := range lc.objs("Rules") {
		lr := s3types.LifecycleRule{ID: rule.strp("Id"), Status: s3types.ExpirationStatus(rule.str("Status"))}
		filter := &s3types.LifecycleRuleFilter{Prefix: aws.String(rule.str("Prefix"))}
		filter.ObjectSizeGreaterThan = rule.int64p("ObjectSizeGreaterThan")
		filter.ObjectSizeLessThan = rule.int64p("ObjectSizeLessThan")
		var tags []s3types.Tag
		for _, t := range rule.objs("TagFilters") {
			tags = append(tags, s3types.Tag{Key: t.strp("Key"), Value: t.strp("Value")})
		}
		if len(tags) > 0 || filter.ObjectSizeGreaterThan != nil || filter.ObjectSizeLessThan != nil {
			and := &s3types.LifecycleRuleAndOperator{
				Prefix: filter.Prefix, Tags: tags,
				ObjectSizeGreaterThan: filter.ObjectSizeGreaterThan, ObjectSizeLessThan: filter.ObjectSizeLessThan,
			}
			filter = &s3types.LifecycleRuleFilter{And: and}
		}
		lr.Filter = filter
		exp := &s3types.LifecycleExpiration{}
		if days := rule.int32p("ExpirationInDays"); days != nil {
			exp.Days = days
			lr.Expiration = exp
		}
		if date := rule.str("ExpirationDate"); date != "" {
			t, err := time.Parse(time.RFC3339, date)
			if err != nil {
				return nil, fmt.Errorf("LifecycleConfiguration: ExpirationDate %q: %w", date, err)
			}
			exp.Date = &t
			lr.Expiration = exp
		}
		if del, ok := rule.boolean("ExpiredObjectDeleteMarker"); ok {
			exp.ExpiredObjectDeleteMarker = &del
			lr.Expiration = exp
		}
		if a := rule.obj("AbortIncompleteMultipartUpload"); a != nil {
			lr.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: a.int32p("DaysAfterInitiation")}
		}
		if n := rule.obj("NoncurrentVersionExpiration"); n != nil {
			lr.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{
				NoncurrentDays: n.int32p("NoncurrentDays"), NewerNoncurrentVersions: n.int32p("NewerNoncurrentVersions"),
			}
		}
		if days := rule.int32p("NoncurrentVersionExpirationInDays"); days != nil {
			lr.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: days}
		}
		for _, t := range rule.objs("Transitions") {
			tr := s3types.Transition{StorageClass: s3types.TransitionStorageClass(t.str("StorageClass")), Days: t.int32p("TransitionInDays")}
			if date := t.str("TransitionDate"); date != "" {
				d, err := time.Parse(time.RFC3339, date)
				if err != nil {
					return nil, fmt.Errorf("LifecycleConfiguration: TransitionDate %q: %w", date, err)
				}
				tr.Date = &d
			}
			lr.Transitions = append(lr.Transitions, tr)
		}
		for _, t := range rule.objs("NoncurrentVersionTransitions") {
			lr.NoncurrentVersionTransitions = append(lr.NoncurrentVersionTransitions, s3types.NoncurrentVersionTransition{
				StorageClass:            s3types.TransitionStorageClass(t.str("StorageClass")),
				NoncurrentDays:          t.int32p("TransitionInDays"),
				NewerNoncurrentVersions: t.int32p("NewerNoncurrentVersions"),
			})
		}
		rules = append(rules, lr)
	}
	return rules, lc.err()
}

// createBucketPolicy applies an AWS::S3::BucketPolicy. moto enforces the statements of a bucket policy whose
// principal is everyone but ignores their conditions, so such a statement (CDK's "deny unless aws:SecureTransport",
// for one) would deny every request: those statements are not applied, and each is reported as a gap. The resolved
// Properties keep the whole document.
func createBucketPolicy(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	bucket := p.str("Bucket")
	doc, _ := p.raw("PolicyDocument")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	applied, dropped, err := enforceablePolicy(doc)
	if err != nil {
		return "", nil, fmt.Errorf("PolicyDocument: %w", err)
	}
	for _, d := range dropped {
		m.gap(r, "%s is not applied: moto enforces it for every request, ignoring its Condition", d)
	}
	if applied != "" {
		if _, err := m.c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &applied}); err != nil {
			m.gap(r, "PutBucketPolicy: %v", err)
		}
	}
	return physicalName(m.d.RunID, r.Stack, r.LogicalID, 255, false), nil, nil
}

// enforceablePolicy returns a bucket policy without the statements moto would misjudge (principal everyone, with a
// condition), "" when none is left, and a description of each statement left out.
func enforceablePolicy(doc any) (string, []string, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("%s is not an object", compact(doc))
	}
	stmts, ok := m["Statement"].([]any)
	if !ok {
		stmts = []any{m["Statement"]}
	}
	var kept []any
	var dropped []string
	for i, st := range stmts {
		s, _ := st.(map[string]any)
		if cond, hasCond := s["Condition"]; hasCond && everyone(s["Principal"]) {
			var keys []string
			if c, ok := cond.(map[string]any); ok {
				for _, op := range c {
					if kv, ok := op.(map[string]any); ok {
						for k := range kv {
							keys = append(keys, k)
						}
					}
				}
			}
			slices.Sort(keys)
			dropped = append(dropped, fmt.Sprintf("statement %d (%v %v on condition %s)", i, s["Effect"], compact(s["Action"]), strings.Join(keys, ", ")))
			continue
		}
		kept = append(kept, st)
	}
	if len(kept) == 0 {
		return "", dropped, nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	out["Statement"] = kept
	b, err := json.Marshal(out)
	return string(b), dropped, err
}

// everyone reports whether a policy principal is everyone: "*" or {"AWS": "*"}.
func everyone(principal any) bool {
	switch p := principal.(type) {
	case string:
		return p == "*"
	case map[string]any:
		switch aws := p["AWS"].(type) {
		case string:
			return aws == "*"
		case []any:
			return slices.Contains(aws, any("*"))
		}
	}
	return false
}
