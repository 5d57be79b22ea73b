package observer

import (
	"os"

	"github.com/eventlake/eventlake/contract"
)

// MonitorConfig is the monitor's configuration (lambdas/monitor): the counter table, readings queue, delay, watches
// and how long objects are remembered. constructs/observer sets it as environment variables; see package contract
// for their names and limits.
type MonitorConfig = contract.Monitor

// MonitorConfigFromEnv reads the monitor's configuration from the environment. Its error names each variable that is
// missing or out of its limits, with the value.
func MonitorConfigFromEnv() (MonitorConfig, error) { return contract.LoadMonitor(os.LookupEnv) }

// ObserverConfig is the observer function's configuration (lambdas/observer): the counter table, readings queue,
// delay, completion rule, and where announcements go. constructs/observer sets it as environment variables.
type ObserverConfig = contract.Observer

// ObserverConfigFromEnv reads the observer function's configuration from the environment.
func ObserverConfigFromEnv() (ObserverConfig, error) { return contract.LoadObserver(os.LookupEnv) }
