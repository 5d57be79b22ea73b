package microstore

import (
	"os"

	"github.com/eventlake/eventlake/contract"
)

// ListenerConfig is a listener's configuration (lambdas/microlistener): its table, types, key field and retention.
// constructs/microstore sets it as environment variables; see package contract for their names and limits.
type ListenerConfig = contract.MicroListener

// ListenerConfigFromEnv reads a listener's configuration from the environment. Its error names each variable that
// is missing or out of its limits, with the value.
func ListenerConfigFromEnv() (ListenerConfig, error) { return contract.LoadMicroListener(os.LookupEnv) }

// TriggerConfig is a trigger's configuration (lambdas/exampletrigger and yours): the table to read histories from.
// constructs/microstore sets it on each trigger function it attaches.
type TriggerConfig = contract.MicroTrigger

// TriggerConfigFromEnv reads a trigger's configuration from the environment.
func TriggerConfigFromEnv() (TriggerConfig, error) { return contract.LoadMicroTrigger(os.LookupEnv) }
