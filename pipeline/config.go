package pipeline

import (
	"os"

	"github.com/eventlake/eventlake/contract"
)

// StarterConfig is the starter's configuration (lambdas/pipelinestarter): the state machine it starts.
// constructs/pipeline sets it as environment variables; see package contract for their names.
type StarterConfig = contract.PipelineStarter

// StarterConfigFromEnv reads the starter's configuration from the environment.
func StarterConfigFromEnv() (StarterConfig, error) { return contract.LoadPipelineStarter(os.LookupEnv) }

// DataPipelineConfig is the Data Pipeline adapter's configuration (lambdas/datapipeline): the template and the
// clones' name prefix.
type DataPipelineConfig = contract.DataPipeline

// DataPipelineConfigFromEnv reads the adapter's configuration from the environment.
func DataPipelineConfigFromEnv() (DataPipelineConfig, error) {
	return contract.LoadDataPipeline(os.LookupEnv)
}
