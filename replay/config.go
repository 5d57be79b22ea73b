package replay

import (
	"os"

	"github.com/eventlake/eventlake/contract"
)

// Config is the deployed replay's configuration (lambdas/replay): the lake it reads and the one target it may
// deliver to. constructs/replay sets it as environment variables; see package contract for their names.
type Config = contract.Replay

// ConfigFromEnv reads the deployed replay's configuration from the environment. Its error names each variable that
// is missing or wrong, with the value.
func ConfigFromEnv() (Config, error) { return contract.LoadReplay(os.LookupEnv) }
