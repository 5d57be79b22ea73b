package cfn

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// suffix returns the 12-character suffix of a generated name: like CloudFormation's, upper-case letters and digits,
// derived from the run id, the stack and the logical id, so that a run names a resource the same way every time.
func suffix(runID, stack, logicalID string) string {
	sum := sha256.Sum256([]byte(runID + "\x00" + stack + "\x00" + logicalID))
	return base32.StdEncoding.EncodeToString(sum[:])[:12]
}

// physicalName returns a CloudFormation-like generated name, <stack>-<logicalId>-<SUFFIX>, at most maxLen characters
// long: when it would be longer, the stack name and the logical id are shortened as CloudFormation does. lower gives
// an all-lower-case name (S3 bucket names).
func physicalName(runID, stack, logicalID string, maxLen int, lower bool) string {
	sfx := suffix(runID, stack, logicalID)
	avail := maxLen - len(sfx) - 2
	s, l := stack, logicalID
	if len(s)+len(l) > avail {
		keepStack := max(avail/2, avail-len(l))
		if keepStack < len(s) {
			s = s[:keepStack]
		}
		if keep := avail - len(s); keep < len(l) {
			l = l[:keep]
		}
	}
	name := s + "-" + l + "-" + sfx
	if lower {
		name = strings.ToLower(name)
	}
	return name
}

// uuidFrom returns a UUID-shaped identifier derived from parts.
func uuidFrom(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
