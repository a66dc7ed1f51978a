// Added to KEDA's pkg/scalers at build time with `go build -overlay` (scripts/keda-tools):
// KEDA's Kafka trigger parser (parseKafkaMetadata, which runs kafkaMetadata.Validate) is
// unexported, and NewKafkaScaler also connects to the brokers. This file only calls the
// parser, unchanged, and reports what it decided; no KEDA file is modified.

package scalers

import (
	"github.com/go-logr/logr"

	"github.com/kedacore/keda/v2/pkg/scalers/scalersconfig"
)

// JarvisParseKafkaTrigger parses a kafka trigger exactly as KEDA's operator does when it
// builds the scaler, without opening a connection.
func JarvisParseKafkaTrigger(config *scalersconfig.ScalerConfig) (map[string]any, error) {
	meta, err := parseKafkaMetadata(config, logr.Discard())
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"bootstrapServers":           meta.BootstrapServers,
		"consumerGroup":              meta.ConsumerGroup,
		"topic":                      meta.Topic,
		"lagThreshold":               meta.LagThreshold,
		"activationLagThreshold":     meta.ActivationLagThreshold,
		"offsetResetPolicy":          string(meta.OffsetResetPolicy),
		"scaleToZeroOnInvalidOffset": meta.ScaleToZeroOnInvalidOffset,
		"allowIdleConsumers":         meta.AllowIdleConsumers,
		"tls":                        meta.enableTLS,
		"sasl":                       string(meta.saslType),
		"saslTokenProvider":          string(meta.tokenProvider),
		"awsRegion":                  meta.AWSRegion,
		"hasUsername":                meta.Username != "",
		"hasPassword":                meta.Password != "",
		"hasCA":                      meta.CA != "",
		"awsUsingPodIdentity":        meta.awsAuthorization.UsingPodIdentity,
		"awsRoleArn":                 meta.awsAuthorization.AwsRoleArn,
	}, nil
}
