package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	dp "github.com/aws/aws-sdk-go-v2/service/datapipeline"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

// DataPipelineAPI is the part of AWS Data Pipeline the adapter uses.
type DataPipelineAPI interface {
	dp.ListPipelinesAPIClient
	DescribePipelines(context.Context, *dp.DescribePipelinesInput, ...func(*dp.Options)) (*dp.DescribePipelinesOutput, error)
	GetPipelineDefinition(context.Context, *dp.GetPipelineDefinitionInput, ...func(*dp.Options)) (*dp.GetPipelineDefinitionOutput, error)
	CreatePipeline(context.Context, *dp.CreatePipelineInput, ...func(*dp.Options)) (*dp.CreatePipelineOutput, error)
	PutPipelineDefinition(context.Context, *dp.PutPipelineDefinitionInput, ...func(*dp.Options)) (*dp.PutPipelineDefinitionOutput, error)
	ActivatePipeline(context.Context, *dp.ActivatePipelineInput, ...func(*dp.Options)) (*dp.ActivatePipelineOutput, error)
	DeletePipeline(context.Context, *dp.DeletePipelineInput, ...func(*dp.Options)) (*dp.DeletePipelineOutput, error)
}

// DataPipeline launches a clone of a template pipeline for each ready data set, as the seed article did — with what
// it did not handle: a definition that fails validation is never activated, a clone that fails to activate is deleted,
// old finished clones are cleaned up over every page of the listing without touching running ones, and a duplicate
// event launches nothing twice.
type DataPipeline struct {
	// Client calls AWS Data Pipeline.
	Client DataPipelineAPI
	// TemplateID is the finished pipeline to clone.
	TemplateID string
	// NamePrefix starts the name of every clone; clones are found by it.
	NamePrefix string
}

// Launch clones the template for one completion of a data set and activates the clone, then deletes older finished
// clones. It returns the clone's id, and whether it launched it now (false: a duplicate, launched before).
func (d *DataPipeline) Launch(ctx context.Context, dataSet string, completion int64) (string, bool, error) {
	name := d.NamePrefix + ExecutionName(dataSet, completion)
	clones, err := d.clones(ctx)
	if err != nil {
		return "", false, err
	}
	id := ""
	for cid, st := range clones {
		if st.name == name {
			if st.state != "PENDING" {
				return cid, false, nil // activated before: a duplicate event
			}
			id = cid // created by an attempt that stopped before activating: finish it
		}
	}
	if id == "" {
		out, err := d.Client.CreatePipeline(ctx, &dp.CreatePipelineInput{Name: &name, UniqueId: &name})
		if err != nil {
			return "", false, fmt.Errorf("create clone %s: %w", name, err)
		}
		id = *out.PipelineId
	}
	def, err := d.Client.GetPipelineDefinition(ctx, &dp.GetPipelineDefinitionInput{PipelineId: &d.TemplateID})
	if err != nil {
		return id, false, d.abandon(ctx, id, fmt.Errorf("read the template %s: %w", d.TemplateID, err))
	}
	put, err := d.Client.PutPipelineDefinition(ctx, &dp.PutPipelineDefinitionInput{PipelineId: &id,
		PipelineObjects: def.PipelineObjects, ParameterObjects: def.ParameterObjects, ParameterValues: def.ParameterValues})
	if err != nil {
		return id, false, d.abandon(ctx, id, fmt.Errorf("put the definition on %s: %w", id, err))
	}
	if put.Errored || len(put.ValidationErrors) > 0 {
		return id, false, d.abandon(ctx, id, fmt.Errorf("the definition of %s fails validation: %s", id, validation(put.ValidationErrors)))
	}
	if _, err := d.Client.ActivatePipeline(ctx, &dp.ActivatePipelineInput{PipelineId: &id}); err != nil {
		return id, false, d.abandon(ctx, id, fmt.Errorf("activate %s: %w", id, err))
	}
	for cid, st := range clones {
		if cid != id && st.state == "FINISHED" {
			if _, err := d.Client.DeletePipeline(ctx, &dp.DeletePipelineInput{PipelineId: &cid}); err != nil {
				return id, true, fmt.Errorf("launched %s, but deleting the finished clone %s failed: %w", id, cid, err)
			}
		}
	}
	return id, true, nil
}

// abandon deletes a clone that must not run, and returns why.
func (d *DataPipeline) abandon(ctx context.Context, id string, why error) error {
	if _, err := d.Client.DeletePipeline(ctx, &dp.DeletePipelineInput{PipelineId: &id}); err != nil {
		return errors.Join(why, fmt.Errorf("and deleting the clone %s failed: %w", id, err))
	}
	return why
}

type clone struct{ name, state string }

// clones lists the pipelines named with the prefix, over every page, with their states.
func (d *DataPipeline) clones(ctx context.Context) (map[string]clone, error) {
	var ids []string
	names := map[string]string{}
	pages := dp.NewListPipelinesPaginator(d.Client, &dp.ListPipelinesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list pipelines: %w", err)
		}
		for _, p := range page.PipelineIdList {
			if p.Id != nil && p.Name != nil && strings.HasPrefix(*p.Name, d.NamePrefix) && *p.Id != d.TemplateID {
				ids = append(ids, *p.Id)
				names[*p.Id] = *p.Name
			}
		}
	}
	out := map[string]clone{}
	for start := 0; start < len(ids); start += 25 {
		desc, err := d.Client.DescribePipelines(ctx, &dp.DescribePipelinesInput{PipelineIds: ids[start:min(start+25, len(ids))]})
		if err != nil {
			return nil, fmt.Errorf("describe pipelines: %w", err)
		}
		for _, p := range desc.PipelineDescriptionList {
			out[*p.PipelineId] = clone{name: names[*p.PipelineId], state: field(p.Fields, "@pipelineState")}
		}
	}
	return out, nil
}

func field(fields []dptypes.Field, key string) string {
	for _, f := range fields {
		if f.Key != nil && *f.Key == key && f.StringValue != nil {
			return *f.StringValue
		}
	}
	return ""
}

func validation(errs []dptypes.ValidationError) string {
	var parts []string
	for _, e := range errs {
		parts = append(parts, fmt.Sprintf("%s: %s", deref(e.Id), strings.Join(e.Errors, "; ")))
	}
	if len(parts) == 0 {
		return "errored"
	}
	return strings.Join(parts, ", ")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
