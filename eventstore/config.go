package eventstore

import (
	"os"

	"github.com/eventlake/eventlake/contract"
)

// Config is the event store writer's configuration (lambdas/eventstorewriter): its table, payload bucket and write
// shards. constructs/eventstore sets it as environment variables; see package contract for their names and limits.
type Config = contract.EventStore

// ConfigFromEnv reads the writer's configuration from the environment. Its error names each variable that is
// missing or out of its limits, with the value.
func ConfigFromEnv() (Config, error) { return contract.LoadEventStore(os.LookupEnv) }
