// Package observer knows when a data set is complete (docs/design.md, part 7).
//
// The [Monitor] counts the objects created under each watched data set (a bucket and a prefix) in a DynamoDB counter,
// one transaction per data set per batch, and starts an observation when none is running. The [Observer] is driven by
// an SQS queue it re-feeds with a delay: it reads the counter, and after N readings in a row without a change it
// announces the data set ready — an EventBridge event of detail type DataSetReady and an SNS message.
//
// What the seed article got wrong, made right here:
//   - Every object counts once: a redelivered S3 event — in the same batch, a later one, out of order, before or after
//     a completion — changes nothing, as marker items remember what was counted (see [Monitor]). An overwrite of a key
//     (a new version) is a change, not a new object.
//   - An observation started before the first object exists keeps polling: no counter yet is a count of zero.
//   - A data set can be expected before its first object ([Settings.Expect], on a schedule through [Expectation]):
//     one that never arrives ends in one DataSetTimedOut of 0 objects instead of going unnoticed.
//   - A duplicate SQS delivery never forks a second observation or a second completion: every reading claims its step
//     with a conditional write keyed by the observation, and a duplicate finds its step taken.
//   - An observation gives up after MaxWait and says so, exactly once (DataSetTimedOut).
//   - Growth after completion (a new object or an overwrite) starts a new observation, which completes again.
package observer
