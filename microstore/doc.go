// Package microstore is a service's own small event store (docs/design.md, part 6): instead of calling other services, a
// service keeps the few events it needs in its own DynamoDB table.
//
// The [Listener] is subscribed to the event stream: it stores the events whose type matches the service's patterns,
// under a hash key (the event's partition key, or a correlation field the service names) and a range key that is
// time-ordered and unique within it (the event's timestamp, then its stream position), with a TTL from the event's
// timestamp so the table stays bounded.
//
// The [Trigger] runs on the table's stream (INSERTs only): for each key touched by a batch it loads that key's whole
// history — every page, strongly consistent, in order — once, and hands it to the service's function.
package microstore

import "github.com/eventlake/eventlake/contract"

// Attribute names of a micro event store table. The keys and TTL are package contract's, which constructs/microstore
// creates the table with.
const (
	// AttrKey is the table's partition key: the correlation key.
	AttrKey = contract.MicroStoreAttrKey
	// AttrPos is the table's sort key: the event's position.
	AttrPos = contract.MicroStoreAttrPos
	// AttrTTL is the table's time-to-live attribute.
	AttrTTL   = contract.MicroStoreAttrTTL
	attrType  = "type"
	attrID    = "id"
	attrTS    = "ts"
	attrEvent = "event"
)

// DefaultRetentionDays keeps events 33 days, as the reference implementation did.
const DefaultRetentionDays = contract.DefaultRetentionDays
