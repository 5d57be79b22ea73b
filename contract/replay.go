package contract

// The environment of the deployed replay (lambdas/replay), set by constructs/replay.
const (
	// ReplayLakeBucket is the data lake bucket's name.
	ReplayLakeBucket = "LAKE_BUCKET"
	// ReplayLakePrefix is the lake's key prefix; the replay reads only under it.
	ReplayLakePrefix = "LAKE_PREFIX"
	// ReplayTargetFunction is the function replayed into: exactly one of it and [ReplayTargetStream].
	ReplayTargetFunction = "TARGET_FUNCTION"
	// ReplayTargetStream is the ARN of the stream replayed into: exactly one of it and [ReplayTargetFunction].
	ReplayTargetStream = "TARGET_STREAM"
	// ReplaySourceStreamARN, optional, is the eventSourceARN of the replayed records.
	ReplaySourceStreamARN = "SOURCE_STREAM_ARN"
)

// DefaultLakePrefix is the data lake's key prefix when none is configured.
const DefaultLakePrefix = "events/"

// Replay is the deployed replay's configuration.
type Replay struct {
	// LakeBucket is the data lake bucket's name. Required.
	LakeBucket string
	// LakePrefix is the lake's key prefix ("" for the whole bucket). The variable is set even when empty.
	LakePrefix string
	// TargetFunction is the name or ARN of the function replayed into. Exactly one of TargetFunction and
	// TargetStream.
	TargetFunction string
	// TargetStream is the ARN of the stream replayed into. Exactly one of TargetFunction and TargetStream.
	TargetStream string
	// SourceStreamARN, optional, is the eventSourceARN of the replayed records.
	SourceStreamARN string
}

// Env returns the variables that configure the replay with c.
func (c Replay) Env() map[string]string {
	env := map[string]string{ReplayLakeBucket: c.LakeBucket, ReplayLakePrefix: c.LakePrefix}
	put(env, ReplayTargetFunction, c.TargetFunction, true)
	put(env, ReplayTargetStream, c.TargetStream, true)
	put(env, ReplaySourceStreamARN, c.SourceStreamARN, true)
	return env
}

// LoadReplay reads and checks the replay's variables.
func LoadReplay(lookup Lookup) (Replay, error) {
	r := &reader{lookup: lookup}
	c := Replay{
		LakeBucket:      r.str(ReplayLakeBucket, true),
		LakePrefix:      r.str(ReplayLakePrefix, false),
		TargetFunction:  r.str(ReplayTargetFunction, false),
		TargetStream:    r.str(ReplayTargetStream, false),
		SourceStreamARN: r.str(ReplaySourceStreamARN, false),
	}
	if (c.TargetFunction == "") == (c.TargetStream == "") {
		name, v := ReplayTargetFunction, c.TargetFunction
		if v == "" {
			name, v = ReplayTargetStream, c.TargetStream
		}
		_, set := lookup(name)
		r.fail(name, v, set, "exactly one of "+ReplayTargetFunction+" and "+ReplayTargetStream+" must be set")
	}
	return c, r.err()
}
