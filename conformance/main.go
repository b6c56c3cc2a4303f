// Command conformance decides generated requests with policy.Evaluate and
// with an independent evaluator, @cloud-copilot/iam-simulate run under
// Node. It reports every disagreement that testdata/divergences.json does
// not record and exits with status 1 when there is one.
//
// Run it from this folder after npm ci: go run . [-n 4000] [-seed 1].
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"time"

	"github.com/countersign/countersign/policy"
)

// errMismatches is returned when some disagreement is not recorded.
var errMismatches = errors.New("unrecorded mismatches")

type config struct {
	dir     string
	node    string
	seed    uint64
	n       int
	repeats int
}

func main() {
	var cfg config

	flag.StringVar(&cfg.dir, "dir", ".", "folder with oracle.mjs, node_modules and testdata")
	flag.StringVar(&cfg.node, "node", "node", "Node.js executable that runs oracle.mjs")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the case generator")
	flag.IntVar(&cfg.n, "n", 4000, "number of cases to generate")
	flag.IntVar(&cfg.repeats, "repeats", 20, "times each case is evaluated by policy.Evaluate when timing it")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.n < 1 || cfg.repeats < 1 {
		return fmt.Errorf("invalid -n %d or -repeats %d: both must be at least 1", cfg.n, cfg.repeats)
	}

	c, err := loadCorpus(filepath.Join(cfg.dir, "testdata"))
	if err != nil {
		return err
	}

	known, err := loadDivergences(filepath.Join(cfg.dir, "testdata", "divergences.json"))
	if err != nil {
		return err
	}

	cases := generate(c, cfg.seed, cfg.n)

	oracle, err := runOracle(ctx, cfg, c, cases)
	if err != nil {
		return err
	}

	ours, perCase, err := evaluateAll(c, cases, cfg.repeats)
	if err != nil {
		return err
	}

	var mismatches, recorded int
	var oracleTotal time.Duration

	tally := map[string]int{}
	bySet := map[string]*[3]int{}
	ignored := map[string]int{}

	for i := range cases {
		tc, got, want := &cases[i], ours[i], oracle[i]
		oracleTotal += time.Duration(want.NS)
		tally[got]++

		if bySet[tc.Set] == nil {
			bySet[tc.Set] = &[3]int{}
		}

		bySet[tc.Set][decisionIndex(got)]++

		for _, k := range want.Ignored {
			ignored[k]++
		}

		if got == want.decision() {
			continue
		}

		if d := known.find(tc, got, want.decision()); d != nil {
			recorded++

			continue
		}

		mismatches++
		fmt.Fprintf(out, "%s set=%s principal=%s action=%s resource=%s context=%s: countersign %s, oracle %s\n",
			tc.ID, tc.Set, tc.Principal, tc.Action, tc.Resource, compactContext(tc.Context), got, want.decision())
	}

	// Evaluate alone sees a key that the oracle dropped, so agreement on
	// those cases proves less and the run prints each such key.
	for _, k := range slices.Sorted(maps.Keys(ignored)) {
		fmt.Fprintf(out, "note: the oracle ignored context key %s in %d cases\n", k, ignored[k])
	}

	// A set whose cases all end in one decision exercises only one side
	// of its conditions, so the spread is printed per set.
	for _, name := range slices.Sorted(maps.Keys(bySet)) {
		n := bySet[name]
		fmt.Fprintf(out, "set %s: %d Allowed, %d ImplicitDeny, %d ExplicitDeny\n", name, n[0], n[1], n[2])
	}

	fmt.Fprintf(out, "countersign decisions: %d Allowed, %d ImplicitDeny, %d ExplicitDeny\n",
		tally[policy.Allowed.String()], tally[policy.ImplicitDeny.String()], tally[policy.ExplicitDeny.String()])
	fmt.Fprintf(out, "oracle %.3f ms/case, countersign %.2f µs/case (%d recorded divergences excluded)\n",
		float64(oracleTotal.Microseconds())/1000/float64(len(cases)), float64(perCase.Nanoseconds())/1000, recorded)
	fmt.Fprintf(out, "%d cases, %d mismatches\n", len(cases), mismatches)

	if mismatches > 0 {
		return fmt.Errorf("%w: %d of %d cases; fix policy/ or record each in testdata/divergences.json", errMismatches, mismatches, len(cases))
	}

	return nil
}

// evaluateAll decides every case with policy.Evaluate and returns the
// decisions and the mean time of one Evaluate call. Each case is evaluated
// repeats times so that the mean is not dominated by timer resolution.
func evaluateAll(c *corpus, cases []testCase, repeats int) ([]string, time.Duration, error) {
	reqs := make([]policy.Request, len(cases))
	sets := make([]policy.PolicySet, len(cases))

	for i := range cases {
		reqs[i], sets[i] = cases[i].request(), c.policySet(cases[i].set)
	}

	decisions := make([]string, len(cases))

	for i := range cases {
		r, err := policy.Evaluate(reqs[i], sets[i])
		if err != nil {
			return nil, 0, fmt.Errorf("evaluate case %s: %w", cases[i].ID, err)
		}

		decisions[i] = r.Decision.String()
	}

	start := time.Now()

	for range repeats {
		for i := range cases {
			_, _ = policy.Evaluate(reqs[i], sets[i])
		}
	}

	return decisions, time.Since(start) / time.Duration(repeats*len(cases)), nil
}

func decisionIndex(d string) int {
	switch d {
	case policy.Allowed.String():
		return 0
	case policy.ImplicitDeny.String():
		return 1
	}

	return 2
}

// oracleResult is one output line of oracle.mjs.
type oracleResult struct {
	ID       string   `json:"id"`
	Decision string   `json:"decision"`
	Error    string   `json:"error"`
	Ignored  []string `json:"ignored"`
	NS       int64    `json:"ns"`
}

// decision maps the oracle's result names onto policy.Decision's.
func (r oracleResult) decision() string {
	switch r.Decision {
	case "Allowed":
		return policy.Allowed.String()
	case "ImplicitlyDenied":
		return policy.ImplicitDeny.String()
	case "ExplicitlyDenied":
		return policy.ExplicitDeny.String()
	case "":
		return "error: " + r.Error
	}

	return "unknown result " + r.Decision
}

// runOracle sends every case to oracle.mjs in one Node process and returns
// its results in case order.
func runOracle(ctx context.Context, cfg config, c *corpus, cases []testCase) ([]oracleResult, error) {
	var in bytes.Buffer

	enc := json.NewEncoder(&in)
	for i := range cases {
		line := struct {
			ID         string     `json:"id"`
			Simulation simulation `json:"simulation"`
		}{cases[i].ID, c.simulation(&cases[i])}

		if err := enc.Encode(line); err != nil {
			return nil, fmt.Errorf("encode case %s: %w", cases[i].ID, err)
		}
	}

	if _, err := os.Stat(filepath.Join(cfg.dir, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		return nil, fmt.Errorf("oracle not installed in %s: run npm ci --no-audit --no-fund there first: %w", cfg.dir, err)
	}

	var stdout, stderr bytes.Buffer

	cmd := exec.CommandContext(ctx, cfg.node, "oracle.mjs")
	cmd.Dir = cfg.dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, &stdout, &stderr

	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run %s oracle.mjs: %w: %s", cfg.node, err, bytes.TrimSpace(stderr.Bytes()))
	}

	byID := map[string]oracleResult{}

	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)

	for sc.Scan() {
		var r oracleResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("parse oracle output line %q: %w", sc.Text(), err)
		}

		byID[r.ID] = r
	}

	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read oracle output: %w", err)
	}

	results := make([]oracleResult, len(cases))

	for i := range cases {
		r, ok := byID[cases[i].ID]
		if !ok {
			return nil, fmt.Errorf("oracle output has no result for case %s; stderr: %s", cases[i].ID, bytes.TrimSpace(stderr.Bytes()))
		}

		results[i] = r
	}

	return results, nil
}

// compactContext formats the context on one line with the keys sorted.
func compactContext(ctx map[string][]string) string {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}

	slices.Sort(keys)

	var b bytes.Buffer

	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}

		fmt.Fprintf(&b, "%s=%v", k, ctx[k])
	}

	return "{" + b.String() + "}"
}
