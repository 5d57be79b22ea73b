package replay

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/eventlake/eventlake/lake"
)

// LakeSource reads the data lake: objects under Options.Prefix of Options.Bucket, in key order, within the time range.
type LakeSource struct {
	// S3 lists and reads the lake.
	S3 S3API
}

// Units lists the lake objects to read, page by page.
func (l *LakeSource) Units(ctx context.Context, opts Options, resumeAfter string, fn func(key string) error) error {
	return l.list(ctx, opts, resumeAfter, func(obj s3types.Object) error { return fn(aws.ToString(obj.Key)) })
}

func (l *LakeSource) list(ctx context.Context, opts Options, resumeAfter string, fn func(s3types.Object) error) error {
	if opts.Bucket == "" {
		return errors.New("bucket is required to read the lake")
	}
	in := &s3.ListObjectsV2Input{Bucket: &opts.Bucket}
	if opts.Prefix != "" {
		in.Prefix = &opts.Prefix
	}
	if start := startAfter(opts, resumeAfter); start != "" {
		in.StartAfter = &start
	}
	pages := s3.NewListObjectsV2Paginator(l.S3, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", opts.Bucket, opts.Prefix, err)
		}
		for _, obj := range page.Contents {
			switch inRange(opts, aws.ToString(obj.Key)) {
			case after:
				return nil
			case before:
				continue
			}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// Open streams one object.
func (l *LakeSource) Open(ctx context.Context, opts Options, key string) (LineReader, string, error) {
	where := fmt.Sprintf("s3://%s/%s", opts.Bucket, key)
	out, err := l.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &opts.Bucket, Key: &key})
	if err != nil {
		return nil, where, fmt.Errorf("get %s: %w", where, err)
	}
	dec, err := lake.NewDecoder(out.Body)
	if err != nil {
		out.Body.Close()
		return nil, where, fmt.Errorf("open %s: %w", where, err)
	}
	return &objectLines{Decoder: dec, body: out.Body}, where, nil
}

type objectLines struct {
	*lake.Decoder
	body interface{ Close() error }
}

func (o *objectLines) Close() error { return o.body.Close() }
