{{- define "jarvis.fullname" -}}{{ .Release.Name }}-jarvis{{- end -}}
{{- define "jarvis.labels" -}}
app.kubernetes.io/name: jarvis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "jarvis.env" -}}
{{- range $k, $v := .Values.config }}
- name: JARVIS_{{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}
