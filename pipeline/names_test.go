package pipeline_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/eventlake/eventlake/pipeline"
)

var executionNameChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func TestExecutionNameUsesStepFunctions80CharactersBeforeHashing(t *testing.T) {
	// 76 characters and the 4 of "-c12": exactly 80, Step Functions' limit.
	at := strings.Repeat("a", 76)
	over := strings.Repeat("a", 77)
	for _, tc := range []struct {
		name, dataSet string
		completion    int64
		want          string
	}{
		{"at the limit, kept", at, 12, at + "-c12"},
		{"one over, hashed", over, 12, over[:80-4-13] + "-" + hexSum(over)[:12] + "-c12"},
		{"unsafe characters, one dash per run", "lake/events/2026/11/21/09/", 3, "lake-events-2026-11-21-09--c3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pipeline.ExecutionName(tc.dataSet, tc.completion)
			if got != tc.want {
				t.Errorf("ExecutionName(%q, %d) = %q, want %q", tc.dataSet, tc.completion, got, tc.want)
			}
			if len(got) > 80 || !executionNameChars.MatchString(got) {
				t.Errorf("%q is not a Step Functions execution name (80 characters of [A-Za-z0-9_-])", got)
			}
		})
	}
}

func TestLongExecutionNamesKeepTheirReadablePrefixAndCompletion(t *testing.T) {
	// GIVEN long data sets that differ only past the kept prefix
	base := "lake/events/" + strings.Repeat("partition=x/", 10)
	a := pipeline.ExecutionName(base+"hour=09/", 1234567)
	b := pipeline.ExecutionName(base+"hour=10/", 1234567)

	// THEN each name is 80 characters: the data set's start, a hash of the whole data set, the completion
	for _, name := range []string{a, b} {
		if len(name) != 80 || !strings.HasPrefix(name, "lake-events-partition-x-") || !strings.HasSuffix(name, "-c1234567") {
			t.Errorf("name %q (%d characters), want 80 characters with the data set's start and the completion", name, len(name))
		}
	}
	// AND they differ
	if a == b {
		t.Errorf("two data sets share the name %q", a)
	}
}

func hexSum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
