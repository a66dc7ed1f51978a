{{/* Names */}}
{{- define "jarvis.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "jarvis.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "jarvis.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "jarvis.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "jarvis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jarvis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "jarvis.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "jarvis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jarvis
{{- end -}}

{{- define "jarvis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "jarvis.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "jarvis.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Grace period: drain + flush + margin, or the user's value if it is at least that. */}}
{{- define "jarvis.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown -}}
{{- $need := add $s.drainGraceSeconds $s.flushTimeoutSeconds $s.marginSeconds -}}
{{- $set := .Values.terminationGracePeriodSeconds -}}
{{- if kindIs "invalid" $set -}}
{{- $need -}}
{{- else if lt (int $set) (int $need) -}}
{{- fail (printf "terminationGracePeriodSeconds=%d is too small: a worker needs shutdown.drainGraceSeconds (%d) + shutdown.flushTimeoutSeconds (%d) + shutdown.marginSeconds (%d) = %d s to hand executions off and flush; raise it or leave it empty" (int $set) (int $s.drainGraceSeconds) (int $s.flushTimeoutSeconds) (int $s.marginSeconds) (int $need)) -}}
{{- else -}}
{{- $set -}}
{{- end -}}
{{- end -}}

{{/* Where mounted Secrets appear inside the pods. */}}
{{- define "jarvis.secretsDir" -}}/var/run/secrets/jarvis{{- end -}}

{{/* librdkafka settings without secrets, as JSON (JARVIS_KAFKA_SECURITY). */}}
{{- define "jarvis.kafkaSecurity" -}}
{{- $k := .Values.kafka -}}
{{- $dir := include "jarvis.secretsDir" . -}}
{{- range $key := list "sasl.password" "ssl.key.password" "ssl.key.pem" "ssl.keystore.password" "sasl.oauthbearer.client.secret" "sasl.oauthbearer.config" -}}
{{- if hasKey $k.security $key -}}
{{- fail (printf "kafka.security must not hold %s: secrets never go into values; reference a Secret (kafka.sasl.existingSecret / kafka.tls.existingSecret)" $key) -}}
{{- end -}}
{{- end -}}
{{- $out := dict -}}
{{- if .Values.keda.awsMskIam.enabled -}}
{{- /* MSK IAM: the worker sets security.protocol and sasl.mechanism (JARVIS_KAFKA_MSK_IAM_REGION) */ -}}
{{- else if $k.sasl.mechanism -}}
{{- $_ := set $out "security.protocol" (ternary "SASL_SSL" "SASL_PLAINTEXT" $k.tls.enabled) -}}
{{- $_ := set $out "sasl.mechanism" $k.sasl.mechanism -}}
{{- else if $k.tls.enabled -}}
{{- $_ := set $out "security.protocol" "SSL" -}}
{{- end -}}
{{- if and $k.tls.enabled $k.tls.existingSecret -}}
{{- if $k.tls.caKey -}}{{- $_ := set $out "ssl.ca.location" (printf "%s/kafka-tls/ca.crt" $dir) -}}{{- end -}}
{{- if $k.tls.certKey -}}{{- $_ := set $out "ssl.certificate.location" (printf "%s/kafka-tls/tls.crt" $dir) -}}{{- end -}}
{{- if $k.tls.keyKey -}}{{- $_ := set $out "ssl.key.location" (printf "%s/kafka-tls/tls.key" $dir) -}}{{- end -}}
{{- end -}}
{{- mustMergeOverwrite $out $k.security | toJson -}}
{{- end -}}

{{/* Checks of combinations the schema cannot express; called by every pod template. */}}
{{- define "jarvis.validate" -}}
{{- $v := .Values -}}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.mechanism is set but kafka.sasl.existingSecret is empty: name the Secret holding the SASL username and password" -}}
{{- end -}}
{{- if and $v.kafka.tls.enabled (or $v.kafka.tls.certKey $v.kafka.tls.keyKey $v.kafka.tls.keyPasswordKey) (not $v.kafka.tls.existingSecret) -}}
{{- fail "kafka.tls.certKey/keyKey/keyPasswordKey are set but kafka.tls.existingSecret is empty: name the Secret holding them" -}}
{{- end -}}
{{- if ne (empty $v.kafka.tls.certKey) (empty $v.kafka.tls.keyKey) -}}
{{- fail "kafka.tls.certKey and kafka.tls.keyKey go together (mutual TLS needs both the client certificate and its key)" -}}
{{- end -}}
{{- if regexMatch "^[a-z]+://[^/@]*:[^/@]+@" $v.redis.url -}}
{{- fail "redis.url holds a password: put the URL (redis.urlKey) or the password (redis.passwordKey) in the Secret named by redis.existingSecret" -}}
{{- end -}}
{{- if and (or $v.redis.passwordKey $v.redis.urlKey) (not $v.redis.existingSecret) -}}
{{- fail "redis.passwordKey/urlKey are set but redis.existingSecret is empty: name the Secret holding them" -}}
{{- end -}}
{{- if and $v.redis.passwordKey $v.redis.urlKey -}}
{{- fail "redis.passwordKey and redis.urlKey are both set: use one (a URL from the Secret carries its own password)" -}}
{{- end -}}
{{- $reserved := list "KAFKA_BOOTSTRAP" "KAFKA_SECURITY" "KAFKA_SASL_USERNAME" "KAFKA_SASL_PASSWORD" "KAFKA_SSL_KEY_PASSWORD" "GROUP_ID" "CONTROL_TOPIC" "REDIS_URL" "REDIS_PASSWORD" "S3_ENDPOINT_URL" "S3_BUCKET" "S3_REGION" "CHECKPOINT_DIR" "DRAIN_GRACE_S" "FLUSH_TIMEOUT_S" "HEALTH_PORT" "HEALTH_HOST" "WORKER_ID" "LOG_FORMAT" "TRACING" -}}
{{- range $key, $_ := $v.config -}}
{{- if has $key $reserved -}}
{{- fail (printf "config.%s is set by the chart from its own values (see values.yaml: kafka, redis, s3, checkpoints, shutdown, healthPort, logFormat, tracing); set it there" $key) -}}
{{- end -}}
{{- if hasSuffix "_FILE" $key -}}
{{- fail (printf "config.%s: secret files are mounted by the chart from the Secrets named in kafka/redis/s3 values" $key) -}}
{{- end -}}
{{- end -}}
{{- if $v.keda.enabled -}}
{{- if gt (int $v.keda.minReplicaCount) (int $v.keda.maxReplicaCount) -}}
{{- fail (printf "keda.minReplicaCount (%d) is above keda.maxReplicaCount (%d)" (int $v.keda.minReplicaCount) (int $v.keda.maxReplicaCount)) -}}
{{- end -}}
{{- if and $v.keda.fallback.enabled (gt (int $v.keda.fallback.replicas) (int $v.keda.maxReplicaCount)) -}}
{{- fail (printf "keda.fallback.replicas (%d) is above keda.maxReplicaCount (%d)" (int $v.keda.fallback.replicas) (int $v.keda.maxReplicaCount)) -}}
{{- end -}}
{{- if and $v.keda.awsMskIam.enabled (not $v.keda.awsMskIam.region) -}}
{{- fail "keda.awsMskIam.enabled needs keda.awsMskIam.region (KEDA signs its IAM requests for one region)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by the worker and the topics Job: no secret values, only paths. */}}
{{- define "jarvis.env" -}}
{{- $v := .Values -}}
{{- $dir := include "jarvis.secretsDir" . -}}
- name: JARVIS_KAFKA_BOOTSTRAP
  value: {{ $v.kafka.bootstrap | quote }}
- name: JARVIS_KAFKA_SECURITY
  value: {{ include "jarvis.kafkaSecurity" . | quote }}
- name: JARVIS_GROUP_ID
  value: {{ $v.kafka.groupId | quote }}
- name: JARVIS_CONTROL_TOPIC
  value: {{ $v.kafka.controlTopic | quote }}
{{- if $v.keda.awsMskIam.enabled }}
- name: JARVIS_KAFKA_MSK_IAM_REGION
  value: {{ required "keda.awsMskIam.region is required with MSK IAM" $v.keda.awsMskIam.region | quote }}
{{- end }}
{{- if $v.kafka.sasl.mechanism }}
- name: JARVIS_KAFKA_SASL_USERNAME_FILE
  value: {{ printf "%s/kafka-sasl/username" $dir | quote }}
- name: JARVIS_KAFKA_SASL_PASSWORD_FILE
  value: {{ printf "%s/kafka-sasl/password" $dir | quote }}
{{- end }}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.keyPasswordKey }}
- name: JARVIS_KAFKA_SSL_KEY_PASSWORD_FILE
  value: {{ printf "%s/kafka-tls/key-password" $dir | quote }}
{{- end }}
{{- range $key, $value := $v.config }}
- name: JARVIS_{{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* The projected volume of every referenced Secret, or nothing. */}}
{{- define "jarvis.secretSources" -}}
{{- $v := .Values -}}
{{- if $v.kafka.sasl.mechanism }}
- secret:
    name: {{ $v.kafka.sasl.existingSecret }}
    items:
      - {key: {{ $v.kafka.sasl.usernameKey | quote }}, path: kafka-sasl/username}
      - {key: {{ $v.kafka.sasl.passwordKey | quote }}, path: kafka-sasl/password}
{{- end }}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.existingSecret }}
- secret:
    name: {{ $v.kafka.tls.existingSecret }}
    items:
      {{- if $v.kafka.tls.caKey }}
      - {key: {{ $v.kafka.tls.caKey | quote }}, path: kafka-tls/ca.crt}
      {{- end }}
      {{- if $v.kafka.tls.certKey }}
      - {key: {{ $v.kafka.tls.certKey | quote }}, path: kafka-tls/tls.crt}
      - {key: {{ $v.kafka.tls.keyKey | quote }}, path: kafka-tls/tls.key}
      {{- end }}
      {{- if $v.kafka.tls.keyPasswordKey }}
      - {key: {{ $v.kafka.tls.keyPasswordKey | quote }}, path: kafka-tls/key-password}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "jarvis.redisSources" -}}
{{- $v := .Values -}}
{{- if $v.redis.urlKey }}
- secret:
    name: {{ $v.redis.existingSecret }}
    items:
      - {key: {{ $v.redis.urlKey | quote }}, path: redis/url}
{{- else if $v.redis.passwordKey }}
- secret:
    name: {{ $v.redis.existingSecret }}
    items:
      - {key: {{ $v.redis.passwordKey | quote }}, path: redis/password}
{{- end }}
{{- end -}}

{{- define "jarvis.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "jarvis.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
