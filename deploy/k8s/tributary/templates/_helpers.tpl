{{- define "tributary.labels" -}}
app.kubernetes.io/name: tributary
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "tributary.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* The founding members: 1=<release>-meta-0.<release>-meta.<ns>.svc:<rpc>,2=… */}}
{{- define "tributary.metaPeers" -}}
{{- $root := . -}}
{{- $peers := list -}}
{{- range $i := until (int .Values.meta.replicas) -}}
{{- $peers = append $peers (printf "%d=%s-meta-%d.%s-meta.%s.svc:%d" (add1 $i) $root.Release.Name $i $root.Release.Name $root.Release.Namespace (int $root.Values.ports.rpc)) -}}
{{- end -}}
{{- join "," $peers -}}
{{- end -}}

{{- define "tributary.probes" -}}
livenessProbe:
  httpGet: { path: /health/live, port: admin }
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /health/ready, port: admin }
  periodSeconds: 5
  failureThreshold: 2
startupProbe:
  httpGet: { path: /health/live, port: admin }
  periodSeconds: 2
  failureThreshold: 60
{{- end -}}

{{- define "tributary.env" -}}
- { name: TRIBUTARY_ADMIN_HOST, value: "0.0.0.0" }
- { name: TRIBUTARY_ADMIN_PORT, value: {{ .Values.ports.admin | quote }} }
- { name: TRIBUTARY_RPC_HOST, value: "0.0.0.0" }
- { name: TRIBUTARY_RPC_PORT, value: {{ .Values.ports.rpc | quote }} }
- { name: TRIBUTARY_LOG_LEVEL, value: {{ .Values.log.level | quote }} }
- { name: TRIBUTARY_LOG_FORMAT, value: {{ .Values.log.format | quote }} }
- { name: TRIBUTARY_NODE_DATA_DIR, value: /data }
{{- end -}}
