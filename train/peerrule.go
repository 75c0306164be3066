package train

import (
	"fmt"
	"strconv"
	"strings"
)

// peerTrust parses the --lr names of GeN wrapped in the trust-ratio test of
// package peer: gen-trust and gen-exact-trust, optionally with ":κmax", the
// largest factor the test may grow the step by (default 1). ok reports
// whether spec names such a rule; err whether it is malformed.
func peerTrust(spec string) (inner string, kmax float64, ok bool, err error) {
	name, arg, hasArg := strings.Cut(spec, ":")
	switch name {
	case "gen-trust":
		inner = "gen"
	case "gen-exact-trust":
		inner = "gen-exact"
	default:
		return "", 0, false, nil
	}
	if !hasArg {
		return inner, 0, true, nil
	}
	kmax, err = strconv.ParseFloat(arg, 64)
	if err != nil || !(kmax >= 1) || kmax > 1e6 {
		return "", 0, true, fmt.Errorf("--lr %s: κmax must be a number ≥ 1, as in %s:2", spec, name)
	}
	return inner, kmax, true, nil
}
