// Command datapipeline launches a clone of an AWS Data Pipeline template for each DataSetReady event (package
// pipeline's DataPipeline adapter). Deployed by constructs/pipeline when a template pipeline is configured.
//
// Environment: [pipeline.DataPipelineConfig], read by pipeline.DataPipelineConfigFromEnv (TEMPLATE_PIPELINE_ID, and
// CLONE_PREFIX optionally).
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/pipeline"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := pipeline.DataPipelineConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	d := &pipeline.DataPipeline{Client: datapipeline.NewFromConfig(cfg), TemplateID: c.TemplateID, NamePrefix: c.ClonePrefix}
	lambda.Start(func(ctx context.Context, ev events.CloudWatchEvent) (string, error) {
		var a observer.Announcement
		if err := json.Unmarshal(ev.Detail, &a); err != nil || a.DataSet == "" {
			return "", fmt.Errorf("DataSetReady detail %s: %v", ev.Detail, err)
		}
		id, launched, err := d.Launch(ctx, a.DataSet, a.Completion)
		logger.InfoContext(ctx, "data pipeline", "dataSet", a.DataSet, "clone", id, "launched", launched, "error", err)
		return id, err
	})
}
