// kedacheck: KEDA's own code, pointed at Jarvis's KEDA objects and at a real Kafka.
//
//	kedacheck validate FILE|- ...     check ScaledObjects / TriggerAuthentications as KEDA would
//	kedacheck scale --metadata k=v ... --min N --max N [--current N] [--auth k=v ...]
//
// validate decodes each document strictly into KEDA's Go types, runs the checks of KEDA's
// admission webhook that need no cluster (replica bounds, fallback, triggers, scaling
// modifiers), resolves each trigger's authenticationRef with KEDA's resolver against the
// TriggerAuthentications, Secrets and ServiceAccounts given (a Secret or ServiceAccount that
// is referenced but not given is made up with placeholder values and reported), then parses
// the trigger metadata with KEDA's Kafka scaler parser. It prints a JSON array, one entry per
// KEDA document; exit status 1 when any has an error.
//
// scale builds KEDA's Kafka scaler (NewKafkaScaler) against the broker named in the metadata,
// asks it for the metric (GetMetricsAndActivity) and prints the lag, the activity flag and the
// replica count the HPA KEDA creates would ask for, and what KEDA's scale executor does with
// it (scale to zero when inactive and minReplicaCount is 0). The HPA part repeats the formula
// of Kubernetes' replica calculator for an External AverageValue metric
// (pkg/controller/podautoscaler/replica_calculator.go, GetExternalPerPodMetricReplicas:
// ceil(total / target) unless within the 10% tolerance of the current count), clamped to
// [max(minReplicaCount, 1), maxReplicaCount]. It is the recommendation of one evaluation:
// the HPA behaviour's stabilization window and rate policies, which smooth it over time,
// are not applied.
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
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	v2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"github.com/kedacore/keda/v2/pkg/scalers"
	"github.com/kedacore/keda/v2/pkg/scalers/authentication"
	"github.com/kedacore/keda/v2/pkg/scalers/scalersconfig"
	"github.com/kedacore/keda/v2/pkg/scaling/resolver"
)

// hpaTolerance is the HPA controller's default --horizontal-pod-autoscaler-tolerance.
const hpaTolerance = 0.1

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "validate":
		os.Exit(validate(os.Args[2:]))
	case "scale":
		os.Exit(scale(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kedacheck validate FILE|- ... | kedacheck scale --metadata k=v ... --min N --max N [--current N] [--auth k=v ...]")
	os.Exit(2)
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "kedacheck: "+format+"\n", args...)
	return 2
}

// --- validate ---

type document struct {
	source string // file and document number, for messages
	kind   string
	name   string
	raw    []byte // JSON
}

type triggerResult struct {
	Index        int            `json:"index"`
	Type         string         `json:"type"`
	Parsed       map[string]any `json:"parsed,omitempty"`
	Placeholders []string       `json:"placeholders,omitempty"`
	Error        string         `json:"error,omitempty"`
}

type result struct {
	Source   string          `json:"source"`
	Kind     string          `json:"kind"`
	Name     string          `json:"name"`
	OK       bool            `json:"ok"`
	Errors   []string        `json:"errors"`
	Triggers []triggerResult `json:"triggers,omitempty"`
}

func readDocuments(paths []string) ([]document, error) {
	var docs []document
	for _, path := range paths {
		var in io.Reader
		if path == "-" {
			in = os.Stdin
		} else {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			in = f
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
		for n := 1; ; n++ {
			chunk, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", path, n, err)
			}
			raw, err := yaml.YAMLToJSON(chunk)
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", path, n, err)
			}
			raw = bytes.TrimSpace(raw)
			if len(raw) == 0 || string(raw) == "null" {
				continue
			}
			// A JSON array of documents (what the Python helper sends) counts as many.
			if raw[0] == '[' {
				var items []json.RawMessage
				if err := json.Unmarshal(raw, &items); err != nil {
					return nil, fmt.Errorf("%s: document %d: %w", path, n, err)
				}
				for i, item := range items {
					d, err := newDocument(fmt.Sprintf("%s[%d]", path, i), item)
					if err != nil {
						return nil, err
					}
					docs = append(docs, d)
				}
				continue
			}
			d, err := newDocument(fmt.Sprintf("%s#%d", path, n), raw)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
	}
	return docs, nil
}

func newDocument(source string, raw []byte) (document, error) {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return document{}, fmt.Errorf("%s: not an object: %w", source, err)
	}
	return document{source: source, kind: head.Kind, name: head.Metadata.Name, raw: raw}, nil
}

// strict decodes like `kubectl apply --validate=strict`: an unknown field is an error.
func strict(raw []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

func namespaced(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

func validate(paths []string) int {
	if len(paths) == 0 {
		return fail("validate: give files (or - for stdin)")
	}
	docs, err := readDocuments(paths)
	if err != nil {
		return fail("%v", err)
	}

	var results []result
	var scaledObjects []*kedav1alpha1.ScaledObject
	var soResults []int
	var objects []ctrlclient.Object
	deployments := map[string]*appsv1.Deployment{}
	secrets := map[string]bool{}
	serviceAccounts := map[string]bool{}

	for _, d := range docs {
		r := result{Source: d.source, Kind: d.kind, Name: d.name, Errors: []string{}}
		switch d.kind {
		case "ScaledObject":
			so := &kedav1alpha1.ScaledObject{}
			if err := strict(d.raw, so); err != nil {
				r.Errors = append(r.Errors, fmt.Sprintf("not a valid KEDA ScaledObject: %v", err))
				break
			}
			so.Namespace = namespaced(so.Namespace)
			for _, check := range []func(*kedav1alpha1.ScaledObject) error{
				kedav1alpha1.CheckReplicaCountBoundsAreValid,
				kedav1alpha1.CheckFallbackValid,
				func(so *kedav1alpha1.ScaledObject) error { return kedav1alpha1.ValidateTriggers(so.Spec.Triggers) },
				func(so *kedav1alpha1.ScaledObject) error {
					if so.IsUsingModifiers() {
						_, err := kedav1alpha1.ValidateAndCompileScalingModifiers(so)
						return err
					}
					return nil
				},
			} {
				if err := check(so); err != nil {
					r.Errors = append(r.Errors, err.Error())
				}
			}
			scaledObjects = append(scaledObjects, so)
			soResults = append(soResults, len(results))
		case "TriggerAuthentication", "ClusterTriggerAuthentication":
			var obj ctrlclient.Object
			if d.kind == "TriggerAuthentication" {
				ta := &kedav1alpha1.TriggerAuthentication{}
				if err := strict(d.raw, ta); err != nil {
					r.Errors = append(r.Errors, fmt.Sprintf("not a valid KEDA TriggerAuthentication: %v", err))
					break
				}
				ta.Namespace = namespaced(ta.Namespace)
				obj = ta
			} else {
				cta := &kedav1alpha1.ClusterTriggerAuthentication{}
				if err := strict(d.raw, cta); err != nil {
					r.Errors = append(r.Errors, fmt.Sprintf("not a valid KEDA ClusterTriggerAuthentication: %v", err))
					break
				}
				obj = cta
			}
			objects = append(objects, obj)
		case "Secret", "ConfigMap", "ServiceAccount", "Deployment":
			var obj ctrlclient.Object
			switch d.kind {
			case "Secret":
				obj = &corev1.Secret{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			case "ServiceAccount":
				obj = &corev1.ServiceAccount{}
			default:
				obj = &appsv1.Deployment{}
			}
			if err := json.Unmarshal(d.raw, obj); err != nil {
				return fail("%s: %v", d.source, err)
			}
			obj.SetNamespace(namespaced(obj.GetNamespace()))
			key := obj.GetNamespace() + "/" + obj.GetName()
			switch o := obj.(type) {
			case *corev1.Secret:
				secrets[key] = true
			case *corev1.ServiceAccount:
				serviceAccounts[key] = true
			case *appsv1.Deployment:
				deployments[key] = o
			}
			objects = append(objects, obj)
			continue // context for the checks, not reported
		default:
			continue // not KEDA's: other tools check those
		}
		results = append(results, r)
	}

	// Placeholders for what the manifests reference but a cluster would already hold.
	placeholders := map[string][]string{}
	for _, obj := range objects {
		var spec *kedav1alpha1.TriggerAuthenticationSpec
		switch o := obj.(type) {
		case *kedav1alpha1.TriggerAuthentication:
			spec = &o.Spec
		case *kedav1alpha1.ClusterTriggerAuthentication:
			spec = &o.Spec
		default:
			continue
		}
		ns := namespaced(obj.GetNamespace())
		made := map[string]*corev1.Secret{}
		for _, ref := range spec.SecretTargetRef {
			key := ns + "/" + ref.Name
			if secrets[key] {
				continue
			}
			s, ok := made[key]
			if !ok {
				s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: ns}, Data: map[string][]byte{}}
				made[key] = s
			}
			s.Data[ref.Key] = []byte(placeholder(ref.Parameter))
			placeholders[obj.GetName()] = append(placeholders[obj.GetName()], fmt.Sprintf("secret %s key %s (%s=%q)", ref.Name, ref.Key, ref.Parameter, placeholder(ref.Parameter)))
		}
		for key, s := range made {
			secrets[key] = true
			objects = append(objects, s)
		}
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fail("%v", err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		return fail("%v", err)
	}

	for i, so := range scaledObjects {
		r := &results[soResults[i]]
		podTemplate, saPlaceholder := podTemplateFor(so, deployments, serviceAccounts)
		extra := objects
		if saPlaceholder != nil {
			extra = append(append([]ctrlclient.Object{}, objects...), saPlaceholder)
		}
		kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(extra...).Build()
		for t, trigger := range so.Spec.Triggers {
			tr := triggerResult{Index: t, Type: trigger.Type}
			if trigger.AuthenticationRef != nil {
				tr.Placeholders = append(tr.Placeholders, placeholders[trigger.AuthenticationRef.Name]...)
			}
			parsed, err := parseTrigger(kube, so, t, trigger, podTemplate)
			if saPlaceholder != nil && parsed != nil && parsed["podIdentity"] == string(kedav1alpha1.PodIdentityProviderAws) {
				tr.Placeholders = append(tr.Placeholders, "service account "+saPlaceholder.Name+" with an eks.amazonaws.com/role-arn annotation")
			}
			if err != nil {
				tr.Error = err.Error()
				r.Errors = append(r.Errors, fmt.Sprintf("trigger %d (%s): %v", t, trigger.Type, err))
			}
			tr.Parsed = parsed
			r.Triggers = append(r.Triggers, tr)
		}
	}

	status := 0
	for i := range results {
		results[i].OK = len(results[i].Errors) == 0
		if !results[i].OK {
			status = 1
		}
	}
	out, _ := json.MarshalIndent(results, "", "  ")
	fmt.Println(string(out))
	return status
}

// placeholder is a made-up value for a Secret key the manifests expect to exist: one KEDA's
// Kafka parser accepts for the parameter it feeds (an enum for sasl and tls).
func placeholder(parameter string) string {
	switch parameter {
	case "sasl":
		return "scram_sha512"
	case "tls":
		return "enable"
	case "unsafeSsl", "kerberosDisableFAST":
		return "false"
	default:
		return "placeholder-" + parameter
	}
}

// podTemplateFor gives the scale target's pod template: the Deployment's when it was given,
// else a pod running as the ServiceAccount named "jarvis" (keda/'s name). The template's
// ServiceAccount is made up, annotated with a placeholder IRSA role, when it was not given.
func podTemplateFor(so *kedav1alpha1.ScaledObject, deployments map[string]*appsv1.Deployment, serviceAccounts map[string]bool) (*corev1.PodTemplateSpec, *corev1.ServiceAccount) {
	template := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: "jarvis", Containers: []corev1.Container{{Name: "worker"}}}}
	if d, ok := deployments[so.Namespace+"/"+so.Spec.ScaleTargetRef.Name]; ok {
		template = &d.Spec.Template
	}
	account := template.Spec.ServiceAccountName
	if account == "" {
		account = "default"
	}
	if serviceAccounts[so.Namespace+"/"+account] {
		return template, nil
	}
	return template, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: account, Namespace: so.Namespace,
		Annotations: map[string]string{kedav1alpha1.PodIdentityAnnotationEKS: "arn:aws:iam::000000000000:role/placeholder"},
	}}
}

// parseTrigger builds the ScalerConfig the way KEDA's scale handler does (scalers_builder.go)
// and runs KEDA's Kafka trigger parser on it.
func parseTrigger(kube ctrlclient.Client, so *kedav1alpha1.ScaledObject, index int, trigger kedav1alpha1.ScaleTriggers, podTemplate *corev1.PodTemplateSpec) (map[string]any, error) {
	if trigger.Type != "kafka" {
		return nil, fmt.Errorf("trigger type %q: this checker parses only KEDA's \"kafka\" trigger, the one Jarvis scales on", trigger.Type)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logger := logr.Discard()
	authClients := &authentication.AuthClientSet{}
	resolvedEnv, err := resolver.ResolveContainerEnv(ctx, kube, logger, &podTemplate.Spec, so.Spec.ScaleTargetRef.EnvSourceContainerName, so.Namespace, authClients.SecretLister)
	if err != nil {
		return nil, fmt.Errorf("resolving the scale target's environment: %w", err)
	}
	config := &scalersconfig.ScalerConfig{
		ScalableObjectName:      so.Name,
		ScalableObjectNamespace: so.Namespace,
		ScalableObjectType:      "ScaledObject",
		TriggerName:             trigger.Name,
		TriggerMetadata:         trigger.Metadata,
		TriggerType:             trigger.Type,
		TriggerUseCachedMetrics: trigger.UseCachedMetrics,
		ResolvedEnv:             resolvedEnv,
		AuthParams:              map[string]string{},
		GlobalHTTPTimeout:       3 * time.Second,
		TriggerIndex:            index,
		MetricType:              trigger.MetricType,
		TriggerUniqueKey:        fmt.Sprintf("ScaledObject-%s-%s-%d", so.Namespace, so.Name, index),
	}
	if trigger.AuthenticationRef != nil {
		ref := trigger.AuthenticationRef
		kind := ref.Kind
		if kind == "" {
			kind = "TriggerAuthentication"
		}
		var found ctrlclient.Object = &kedav1alpha1.TriggerAuthentication{}
		key := ctrlclient.ObjectKey{Name: ref.Name, Namespace: so.Namespace}
		if kind == "ClusterTriggerAuthentication" {
			found = &kedav1alpha1.ClusterTriggerAuthentication{}
			key.Namespace = ""
		}
		// KEDA's resolver only logs a missing TriggerAuthentication and carries on without
		// credentials; for a manifest set that is a broken reference, so say so.
		if err := kube.Get(ctx, key, found); err != nil {
			return nil, fmt.Errorf("authenticationRef names %s %q, which is not among the documents", kind, ref.Name)
		}
	}
	authParams, podIdentity, err := resolver.ResolveAuthRefAndPodIdentity(ctx, kube, logger, trigger.AuthenticationRef, podTemplate, so.Namespace, authClients)
	if err != nil {
		return nil, fmt.Errorf("resolving authenticationRef: %w", err)
	}
	config.AuthParams = authParams
	config.PodIdentity = podIdentity
	if _, err := scalers.GetMetricTargetType(config); err != nil {
		return nil, err
	}
	parsed, err := scalers.JarvisParseKafkaTrigger(config)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(authParams))
	for k := range authParams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parsed["authParams"] = keys
	parsed["podIdentity"] = string(podIdentity.Provider)
	return parsed, nil
}

// --- scale ---

type pairs map[string]string

func (p pairs) String() string { return fmt.Sprint(map[string]string(p)) }
func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want key=value", s)
	}
	p[k] = v
	return nil
}

type scaleResult struct {
	MetricName        string `json:"metricName"`
	Lag               int64  `json:"lag"`
	LagMilli          int64  `json:"lagMilli"`
	TargetAverage     string `json:"targetAverageValue"`
	Active            bool   `json:"active"`
	HPARecommendation int32  `json:"hpaRecommendation"`
	DesiredReplicas   int32  `json:"desiredReplicas"`
	MinReplicaCount   int32  `json:"minReplicaCount"`
	MaxReplicaCount   int32  `json:"maxReplicaCount"`
	CurrentReplicas   int32  `json:"currentReplicas"`
}

func scale(args []string) int {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	metadata, auth := pairs{}, pairs{}
	fs.Var(metadata, "metadata", "trigger metadata key=value (repeat)")
	fs.Var(auth, "auth", "resolved auth parameter key=value (repeat), as a TriggerAuthentication would give")
	minReplicas := fs.Int("min", 0, "minReplicaCount")
	maxReplicas := fs.Int("max", 100, "maxReplicaCount")
	current := fs.Int("current", 0, "replicas running now (0: compute from scratch, no tolerance band)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *minReplicas < 0 || *maxReplicas < 1 || *minReplicas > *maxReplicas || *current < 0 {
		return fail("scale: need 0 <= --min <= --max, --max >= 1, --current >= 0")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	config := &scalersconfig.ScalerConfig{
		ScalableObjectName:      "jarvis",
		ScalableObjectNamespace: "default",
		ScalableObjectType:      "ScaledObject",
		TriggerType:             "kafka",
		TriggerMetadata:         metadata,
		AuthParams:              auth,
		ResolvedEnv:             map[string]string{},
		GlobalHTTPTimeout:       3 * time.Second,
		TriggerUniqueKey:        "ScaledObject-default-jarvis-0",
	}
	scaler, err := scalers.NewKafkaScaler(ctx, config)
	if err != nil {
		return fail("scale: %v", err)
	}
	defer scaler.Close(ctx)
	specs := scaler.GetMetricSpecForScaling(ctx)
	if len(specs) != 1 || specs[0].External == nil || specs[0].External.Target.AverageValue == nil {
		return fail("scale: unexpected metric spec %+v", specs)
	}
	spec := specs[0].External
	values, active, err := scaler.GetMetricsAndActivity(ctx, spec.Metric.Name)
	if err != nil {
		return fail("scale: %v", err)
	}
	if len(values) != 1 {
		return fail("scale: %d metric values", len(values))
	}
	lagMilli := values[0].Value.MilliValue()
	targetMilli := spec.Target.AverageValue.MilliValue()
	if spec.Target.Type != v2.AverageValueMetricType || targetMilli <= 0 {
		return fail("scale: target %+v is not a positive AverageValue", spec.Target)
	}

	recommendation := int32(math.Ceil(float64(lagMilli) / float64(targetMilli)))
	if *current > 0 {
		ratio := float64(lagMilli) / (float64(targetMilli) * float64(*current))
		if math.Abs(1.0-ratio) <= hpaTolerance {
			recommendation = int32(*current)
		}
	}
	hpaMin := max(int32(*minReplicas), 1) // ScaledObject.GetHPAMinReplicas
	recommendation = min(max(recommendation, hpaMin), int32(*maxReplicas))

	desired := recommendation
	if !active && *minReplicas == 0 {
		desired = 0 // scale executor: scaleToZeroOrIdle once cooldownPeriod has passed
	}
	out, _ := json.Marshal(scaleResult{
		MetricName: spec.Metric.Name, Lag: lagMilli / 1000, LagMilli: lagMilli,
		TargetAverage: spec.Target.AverageValue.String(), Active: active,
		HPARecommendation: recommendation, DesiredReplicas: desired,
		MinReplicaCount: int32(*minReplicas), MaxReplicaCount: int32(*maxReplicas), CurrentReplicas: int32(*current),
	})
	fmt.Println(string(out))
	return 0
}
