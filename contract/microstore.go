package contract

import (
	"regexp"
	"strconv"
	"strings"
)

// The environment of a micro event store's listener (lambdas/microlistener), set by constructs/microstore.
const (
	// MicroListenerTable is the micro event store table's name.
	MicroListenerTable = "TABLE"
	// MicroListenerTypes are the event types the service keeps, exact or globs, comma-separated.
	MicroListenerTypes = "TYPES"
	// MicroListenerKeyField is the event field the store is keyed by.
	MicroListenerKeyField = "KEY_FIELD"
	// MicroListenerRetentionDays sets each event's TTL from its timestamp, from [MinRetentionDays] to
	// [MaxRetentionDays] days.
	MicroListenerRetentionDays = "RETENTION_DAYS"
)

// MicroTriggerTable is the environment of a micro event store's trigger (lambdas/exampletrigger and yours): the
// table's name, which constructs/microstore sets on each trigger function it creates the mapping of.
const MicroTriggerTable = "MICROSTORE_TABLE"

// Limits and defaults of a micro event store.
const (
	// MinRetentionDays is the shortest retention of a micro event store, in days.
	MinRetentionDays = 1
	// MaxRetentionDays is the longest retention of a micro event store, in days (about 10 years).
	MaxRetentionDays = 3650
	// DefaultRetentionDays keeps events 33 days, as the reference implementation did.
	DefaultRetentionDays = 33
	// DefaultKeyField keys a micro event store by the event's partition key.
	DefaultKeyField = "partitionKey"
	// TypesSeparator separates the patterns of [MicroListenerTypes]; no pattern may contain it.
	TypesSeparator = ","
)

// KeyFieldPattern is what a key field's name must match: an event field name.
var KeyFieldPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// The micro event store table's schema, which constructs/microstore creates and package microstore reads and writes.
const (
	// MicroStoreAttrKey is the table's partition key: the correlation key.
	MicroStoreAttrKey = "key"
	// MicroStoreAttrPos is the table's sort key: the event's position.
	MicroStoreAttrPos = "pos"
	// MicroStoreAttrTTL is the table's time-to-live attribute.
	MicroStoreAttrTTL = "ttl"
)

// MicroListener is a micro event store listener's configuration.
type MicroListener struct {
	// Table is the micro event store table's name. Required.
	Table string
	// Types are the event types the service keeps: exact, or globs such as "order-*", none containing
	// [TypesSeparator]. None keeps every event.
	Types []string
	// KeyField is the event field to key by. Default [DefaultKeyField].
	KeyField string
	// RetentionDays sets each event's TTL from its timestamp ([MinRetentionDays] to [MaxRetentionDays]). Required.
	RetentionDays int
}

// Env returns the variables that configure the listener with c.
func (c MicroListener) Env() map[string]string {
	return map[string]string{
		MicroListenerTable:         c.Table,
		MicroListenerTypes:         strings.Join(c.Types, TypesSeparator),
		MicroListenerKeyField:      c.KeyField,
		MicroListenerRetentionDays: strconv.Itoa(c.RetentionDays),
	}
}

// LoadMicroListener reads and checks the listener's variables.
func LoadMicroListener(lookup Lookup) (MicroListener, error) {
	r := &reader{lookup: lookup}
	c := MicroListener{
		Table:         r.str(MicroListenerTable, true),
		KeyField:      r.str(MicroListenerKeyField, false),
		RetentionDays: r.whole(MicroListenerRetentionDays, MinRetentionDays, MaxRetentionDays, true, 0),
	}
	if c.KeyField == "" {
		c.KeyField = DefaultKeyField
	} else if !KeyFieldPattern.MatchString(c.KeyField) {
		r.fail(MicroListenerKeyField, c.KeyField, true, "must be an event field name matching "+KeyFieldPattern.String())
	}
	if t := r.str(MicroListenerTypes, false); t != "" {
		c.Types = strings.Split(t, TypesSeparator)
		for _, p := range c.Types {
			if p == "" {
				r.fail(MicroListenerTypes, t, true, "must be event types or globs separated by single commas, none empty")
				break
			}
		}
	}
	return c, r.err()
}

// MicroTrigger is a micro event store trigger's configuration.
type MicroTrigger struct {
	// Table is the micro event store table's name, to read each touched key's history from. Required.
	Table string
}

// Env returns the variables that configure a trigger with c.
func (c MicroTrigger) Env() map[string]string { return map[string]string{MicroTriggerTable: c.Table} }

// LoadMicroTrigger reads and checks a trigger's variables.
func LoadMicroTrigger(lookup Lookup) (MicroTrigger, error) {
	r := &reader{lookup: lookup}
	c := MicroTrigger{Table: r.str(MicroTriggerTable, true)}
	return c, r.err()
}
