package contract

// PipelineStarterStateMachineARN is the environment of the pipeline's starter (lambdas/pipelinestarter), set by
// constructs/pipeline: the ARN of the state machine it starts for each ready data set.
const PipelineStarterStateMachineARN = "STATE_MACHINE_ARN"

// The environment of the pipeline's AWS Data Pipeline adapter (lambdas/datapipeline), set by constructs/pipeline.
const (
	// DataPipelineTemplateID is the id of the finished pipeline that is cloned for each ready data set.
	DataPipelineTemplateID = "TEMPLATE_PIPELINE_ID"
	// DataPipelineClonePrefix starts the name of every clone.
	DataPipelineClonePrefix = "CLONE_PREFIX"
)

// DefaultClonePrefix starts the name of every Data Pipeline clone the construct configures.
const DefaultClonePrefix = "eventlake-"

// PipelineStarter is the pipeline starter's configuration.
type PipelineStarter struct {
	// StateMachineARN is the state machine to start. Required.
	StateMachineARN string
}

// Env returns the variables that configure the starter with c.
func (c PipelineStarter) Env() map[string]string {
	return map[string]string{PipelineStarterStateMachineARN: c.StateMachineARN}
}

// LoadPipelineStarter reads and checks the starter's variables.
func LoadPipelineStarter(lookup Lookup) (PipelineStarter, error) {
	r := &reader{lookup: lookup}
	c := PipelineStarter{StateMachineARN: r.str(PipelineStarterStateMachineARN, true)}
	return c, r.err()
}

// DataPipeline is the Data Pipeline adapter's configuration.
type DataPipeline struct {
	// TemplateID is the id of the template pipeline. Required.
	TemplateID string
	// ClonePrefix starts each clone's name. Optional.
	ClonePrefix string
}

// Env returns the variables that configure the adapter with c.
func (c DataPipeline) Env() map[string]string {
	env := map[string]string{DataPipelineTemplateID: c.TemplateID}
	put(env, DataPipelineClonePrefix, c.ClonePrefix, true)
	return env
}

// LoadDataPipeline reads and checks the adapter's variables.
func LoadDataPipeline(lookup Lookup) (DataPipeline, error) {
	r := &reader{lookup: lookup}
	c := DataPipeline{TemplateID: r.str(DataPipelineTemplateID, true), ClonePrefix: r.str(DataPipelineClonePrefix, false)}
	return c, r.err()
}
