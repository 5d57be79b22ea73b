// Package contract is what each eventlake construct and the handler it deploys agree on: the environment variables a
// handler reads (their names, limits and defaults, as exported constants), one configuration type per handler with
// the one loader that reads and validates every variable, and the properties and limits of the
// Custom::EventlakeSubscription resource.
//
// A construct fills a handler's configuration type (token strings are fine as values: CDK tokens are strings) and
// sets the variables [EventStore.Env] and its siblings return; the handler's main reads them with the matching loader
// (through its runtime package: eventstore.ConfigFromEnv and the like). Neither side spells a variable name.
//
// The package imports the standard library only. The constructs import it, so a CDK app compiles no AWS SDK service
// client for them; the runtime packages, which do import SDK clients, re-export its types. It is public because the
// names are the deployed interface of the handlers under lambdas/: whoever deploys one with other tools (or wraps it in
// a construct of their own) sets the same variables, and can check them with the same loader.
//
// Every loader reports every problem it finds at once, each as an [*EnvError] naming the variable, its value and the
// limit, joined with errors.Join.
package contract

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Lookup reads one environment variable, as os.LookupEnv does: its value and whether it is set.
type Lookup func(name string) (string, bool)

// EnvError is a variable a loader could not use: its name, its value and what the value must be.
type EnvError struct {
	// Name is the variable's name.
	Name string
	// Value is its value; "" when it is not set.
	Value string
	// Set reports whether the variable is set at all.
	Set bool
	// Reason says what the value must be.
	Reason string
}

// Error names the variable, its value (or that it is not set) and the limit.
func (e *EnvError) Error() string {
	if !e.Set {
		return fmt.Sprintf("environment variable %s is not set: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("environment variable %s = %q: %s", e.Name, e.Value, e.Reason)
}

// reader reads variables through a Lookup and gathers every problem.
type reader struct {
	lookup Lookup
	errs   []error
}

func (r *reader) fail(name, value string, set bool, reason string) {
	r.errs = append(r.errs, &EnvError{Name: name, Value: value, Set: set, Reason: reason})
}

func (r *reader) err() error { return errors.Join(r.errs...) }

// str reads a string; a required one must be set and not empty.
func (r *reader) str(name string, required bool) string {
	v, ok := r.lookup(name)
	if required && v == "" {
		r.fail(name, v, ok, "required, and must not be empty")
	}
	return v
}

// whole reads a whole number from min to max; a variable that is not set (or is empty) gives def, or fails when
// required.
func (r *reader) whole(name string, min, max int, required bool, def int) int {
	v, ok := r.lookup(name)
	if v == "" {
		if required {
			r.fail(name, v, ok, fmt.Sprintf("required: a whole number from %d to %d", min, max))
		}
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < min || n > max {
		r.fail(name, v, true, fmt.Sprintf("must be a whole number from %d to %d", min, max))
		return def
	}
	return n
}

// put sets name to value in env, leaving out an optional value that is empty.
func put(env map[string]string, name, value string, optional bool) {
	if optional && value == "" {
		return
	}
	env[name] = value
}
