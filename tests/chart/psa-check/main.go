// psa-check evaluates pod templates with Kubernetes' own Pod Security admission code
// (k8s.io/pod-security-admission, the library the API server's admission plugin runs).
//
// stdin:  a JSON array of {"name": "...", "template": <PodTemplateSpec>}
// flags:  -level restricted|baseline|privileged (default restricted), -version latest|1.N
// stdout: a JSON array of {"name", "allowed", "forbidden": [{"reason", "detail"}]}
// exit:   0 when every template was evaluated (allowed or not), 2 on bad input.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type input struct {
	Name     string                 `json:"name"`
	Template corev1.PodTemplateSpec `json:"template"`
}

type forbidden struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type output struct {
	Name      string      `json:"name"`
	Allowed   bool        `json:"allowed"`
	Forbidden []forbidden `json:"forbidden"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "psa-check: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	levelFlag := flag.String("level", "restricted", "Pod Security level")
	versionFlag := flag.String("version", "latest", "Pod Security policy version")
	flag.Parse()

	level, err := api.ParseLevel(*levelFlag)
	if err != nil {
		fail("-level: %v", err)
	}
	version, err := api.ParseVersion(*versionFlag)
	if err != nil {
		fail("-version: %v", err)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fail("evaluator: %v", err)
	}

	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	var pods []input
	if err := dec.Decode(&pods); err != nil {
		fail("stdin is not a JSON array of {name, template}: %v", err)
	}
	if len(pods) == 0 {
		fail("stdin holds no pod templates")
	}

	lv := api.LevelVersion{Level: level, Version: version}
	results := make([]output, 0, len(pods))
	for _, pod := range pods {
		out := output{Name: pod.Name, Allowed: true, Forbidden: []forbidden{}}
		for _, r := range evaluator.EvaluatePod(lv, &pod.Template.ObjectMeta, &pod.Template.Spec) {
			if !r.Allowed {
				out.Allowed = false
				out.Forbidden = append(out.Forbidden, forbidden{r.ForbiddenReason, r.ForbiddenDetail})
			}
		}
		results = append(results, out)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		fail("stdout: %v", err)
	}
}
