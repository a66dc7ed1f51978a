// promql-check parses PromQL expressions with Prometheus's own parser and names the metrics
// each one selects. Input (stdin): a JSON list of expressions. Output (stdout): a JSON list,
// one entry per expression: {"expr": ..., "error": "" or the parse error, "metrics": [...]}.
// Built by scripts/tools/promql for tests/metrics/test_dashboard.py.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Expr    string   `json:"expr"`
	Error   string   `json:"error"`
	Metrics []string `json:"metrics"`
}

func names(expr parser.Expr) ([]string, error) {
	seen := map[string]bool{}
	var problem error
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" {
			problem = fmt.Errorf("selector %s names no metric", vs.String())
			return nil
		}
		seen[name] = true
		return nil
	})
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, problem
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintf(os.Stderr, "promql-check: stdin must be a JSON list of strings: %v\n", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	results := make([]result, 0, len(exprs))
	for _, e := range exprs {
		r := result{Expr: e, Metrics: []string{}}
		parsed, err := p.ParseExpr(e)
		if err != nil {
			r.Error = err.Error()
		} else if ms, err := names(parsed); err != nil {
			r.Error = err.Error()
			r.Metrics = ms
		} else {
			r.Metrics = ms
		}
		results = append(results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintf(os.Stderr, "promql-check: %v\n", err)
		os.Exit(2)
	}
}
