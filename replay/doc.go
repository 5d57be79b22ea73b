// Package replay replays events from the data lake into one Lambda function, or into a dedicated replay stream —
// never back onto the shared stream, which would reach every subscriber (docs/design.md, part 4).
//
// The engine lists lake objects under a prefix page by page, in key order (chronological, by the YYYY/MM/DD/HH/
// layout), optionally within a time range; streams each object line by line with bounded buffers (package lake), so
// memory does not grow with the lake or with an object; filters by event type; rebuilds each event as the
// events.KinesisEventRecord a Kinesis-subscribed function receives; and packs many records per invocation.
//
// Events are spread over parallel lanes by partition key: each lane delivers its batches one after another, so no key's
// events are ever reordered by the engine, with several invocations in flight. Batches go as asynchronous Event
// invocations when they fit the asynchronous payload limit and as RequestResponse up to 6 MB (or all as
// RequestResponse with Options.Sync, which keeps per-key order at the function as well: Lambda may run two queued
// asynchronous invocations at once).
//
// Every run checks its target before it reads anything (Target.Check): a function or stream that does not exist, or
// may not be delivered to, ends the run at once. What a run did is its [Summary].
//
// The deployed replay runs the engine leg after leg ([Job], [RunLeg]). It accepts a job only with an explicit scope —
// a prefix below the lake prefix, a time range, or "all": true — and only for its own lake and target
// ([Deployment.Confine]); a refused job is an [*InputError] naming the field, the value and what is accepted.
//
// Progress is checkpointed at object granularity: the checkpoint is the last object, in key order, all of whose
// events were delivered, and a resumed run starts after it. Nothing is skipped; the events of objects that were in
// flight when a run stopped are delivered again (at least once, as the stream itself does).
package replay
