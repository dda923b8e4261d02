package config

import "strings"

// UnknownVar is a TACIT_* environment variable that Load does not read, with the
// known name it most resembles ("" when none is close).
type UnknownVar struct {
	Name    string
	Nearest string
}

// developmentVars are the TACIT_* variables of the test suite, the benchmarks and the
// CI script: set in a developer's shell, they are not mistakes.
var developmentVars = []string{"TACIT_TEST_", "TACIT_BENCH_", "TACIT_SCREENSHOTS", "TACIT_REQUIRE_BROWSER", "TACIT_FUZZ_TIME"}

// UnknownEnv lists the TACIT_* variables in environ that configure nothing, usually
// typing mistakes (TACIT_PROTOCL) whose setting silently keeps its default. Load does
// not refuse them: a variable meant for a newer version must not stop an older one.
func UnknownEnv(environ []string) []UnknownVar {
	known := map[string]bool{}
	for _, b := range envTable {
		known[b.Name] = true
	}
	var out []UnknownVar
	seen := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TACIT_") || known[name] || seen[name] || isDevelopmentVar(name) {
			continue
		}
		seen[name] = true
		out = append(out, UnknownVar{Name: name, Nearest: nearestName(name)})
	}
	return out
}

func isDevelopmentVar(name string) bool {
	for _, d := range developmentVars {
		if name == d || (strings.HasSuffix(d, "_") && strings.HasPrefix(name, d)) {
			return true
		}
	}
	return false
}

// nearestName is the known variable at the smallest edit distance from name, if that
// distance is small enough to be a slip of the fingers (at most a third of the part
// after TACIT_, and at least 2).
func nearestName(name string) string {
	best, bestDist := "", -1
	for _, b := range envTable {
		d := editDistance(name, b.Name)
		if bestDist < 0 || d < bestDist {
			best, bestDist = b.Name, d
		}
	}
	limit := max(2, (len(name)-len("TACIT_"))/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes: names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
