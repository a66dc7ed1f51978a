// dashboard-check validates a Grafana dashboard JSON file against Grafana's own dashboard
// schema, as generated into github.com/grafana/grafana-foundation-sdk: a strict decode (a
// missing required field, a field of the wrong type, an unknown field all fail; panel
// options and field config are decoded by their panel plugin's schema), then Validate().
// Usage: dashboard-check FILE. Prints "ok" or the problems, exit 1 on any.
// Built by scripts/tools/grafana for tests/metrics/test_dashboard.py.
package main

import (
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// failed: the SDK returns its error list typed even when empty (a non-nil interface holding
// a nil cog.BuildErrors), so an empty list is success.
func failed(err error) bool {
	if errs, ok := err.(cog.BuildErrors); ok {
		return len(errs) > 0
	}
	return err != nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dashboard-check FILE")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard
	if err := d.UnmarshalJSONStrict(raw); failed(err) {
		fmt.Printf("%s: not a valid Grafana dashboard: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := d.Validate(); failed(err) {
		fmt.Printf("%s: invalid: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
