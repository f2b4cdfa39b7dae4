{{/*
Monitoring helpers.
  webstack.monitoring.operator  "true" when the Prometheus Operator objects are rendered: monitoring.operator
                                "always", or "auto" and the cluster serves monitoring.coreos.com/v1
  webstack.monitoring.rules     the PrometheusRule's groups (YAML list), also checked by promtool in the tests
*/}}

{{- define "webstack.monitoring.operator" -}}
{{- $mode := .Values.monitoring.operator -}}
{{- if or (eq $mode "always") (and (eq $mode "auto") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) }}true{{ end -}}
{{- end -}}

{{- define "webstack.monitoring.rules" -}}
{{- $r := .Values.monitoring.rules -}}
{{- $ns := .Release.Namespace -}}
{{- $web := include "webstack.componentName" (dict "ctx" $ "component" "web") -}}
{{- $db := include "webstack.componentName" (dict "ctx" $ "component" "db") -}}
{{- $pw := include "webstack.componentName" (dict "ctx" $ "component" "podwatch") -}}
{{- $sel := printf "namespace=%q,pod=~%q" $ns (printf "%s-[0-9]+" $db) -}}
{{- $tplCtx := dict "Release" .Release "web" $web -}}
- name: webstack-{{ .Release.Name }}
  rules:
    {{- if and .Values.db.enabled .Values.db.metrics.enabled (eq .Values.db.mode "galera") }}
    - alert: WebstackGaleraClusterSizeLow
      # Every member reports the size of the primary component it sees; fewer than the replicas = a member is gone.
      expr: min(mysql_global_status_wsrep_cluster_size{ {{- $sel -}} }) < {{ .Values.db.replicaCount }} or absent(mysql_global_status_wsrep_cluster_size{ {{- $sel -}} })
      for: {{ $r.for }}
      labels: { severity: critical, namespace: {{ $ns | quote }} }
      annotations:
        summary: Galera cluster {{ $db }} has fewer members than its {{ .Values.db.replicaCount }} replicas
        description: 'The smallest cluster size a member reports is {{ "{{" }} $value {{ "}}" }}.'
    - alert: WebstackGaleraNoPrimary
      # wsrep_cluster_status Primary = 1 (non-Primary, Disconnected = 0): no member in a Primary component
      # means the cluster lost quorum and refuses writes everywhere.
      expr: max(mysql_global_status_wsrep_cluster_status{ {{- $sel -}} }) < 1
      for: {{ $r.for }}
      labels: { severity: critical, namespace: {{ $ns | quote }} }
      annotations:
        summary: No member of Galera cluster {{ $db }} is in a Primary component (quorum lost, writes refused)
    - alert: WebstackGaleraMemberNotSynced
      # wsrep_local_state 4 = Synced; a member stuck Joining/Donor/Joined for long is not serving.
      expr: mysql_global_status_wsrep_local_state{ {{- $sel -}} } != 4
      for: {{ $r.for }}
      labels: { severity: warning, namespace: {{ $ns | quote }} }
      annotations:
        summary: 'Galera member {{ "{{" }} $labels.pod {{ "}}" }} is not Synced (state {{ "{{" }} $value {{ "}}" }})'
    {{- end }}
    {{- if and .Values.db.enabled .Values.db.metrics.enabled .Values.db.replication.role }}
    - alert: WebstackReplicationStopped
      # Only the member that replicates from the other region has these series (a primary has none): 0 = the
      # replica cannot reach the other region's entry point (IO) or stopped applying (SQL).
      expr: min(mysql_slave_status_slave_io_running{ {{- $sel -}} } * mysql_slave_status_slave_sql_running{ {{- $sel -}} }) == 0
      for: {{ $r.for }}
      labels: { severity: critical, namespace: {{ $ns | quote }} }
      annotations:
        summary: Region {{ .Values.region.name }} is not replicating from the other region (its copy is going stale)
    - alert: WebstackReplicationLagHigh
      # Seconds_Behind_Master: how far the standby's applied writes trail the primary's.
      expr: max(mysql_slave_status_seconds_behind_master{ {{- $sel -}} }) > {{ $r.replicationLagSeconds }}
      for: {{ $r.for }}
      labels: { severity: warning, namespace: {{ $ns | quote }} }
      annotations:
        summary: 'Region {{ .Values.region.name }} trails the primary by {{ "{{" }} $value {{ "}}" }}s (over {{ $r.replicationLagSeconds }}s)'
    {{- end }}
    {{- if and .Values.db.enabled $r.backupAlerts (include "webstack.backupEnabled" .) }}
    - alert: WebstackBackupTooOld
      # kstack_backup_last_success_timestamp_seconds: exported by the binlog archiver sidecars (templates/backup/).
      expr: time() - max(kstack_backup_last_success_timestamp_seconds{namespace="{{ $ns }}"}) > {{ $r.backupMaxAgeSeconds }} or absent(kstack_backup_last_success_timestamp_seconds{namespace="{{ $ns }}"})
      for: {{ $r.for }}
      labels: { severity: critical, namespace: {{ $ns | quote }} }
      annotations:
        summary: The newest successful backup of {{ $db }} is older than {{ $r.backupMaxAgeSeconds }}s (or there is none)
    - alert: WebstackBackupNotVerified
      # kstack_backup_verified_timestamp_seconds: the newest successful verification (0: none), from the archivers.
      expr: time() - max(kstack_backup_verified_timestamp_seconds{namespace="{{ $ns }}"}) > {{ $r.verifyMaxAgeSeconds }}
      for: {{ $r.for }}
      labels: { severity: warning, namespace: {{ $ns | quote }} }
      annotations:
        summary: No backup of {{ $db }} was verified in the last {{ $r.verifyMaxAgeSeconds }}s
    - alert: WebstackBackupVerifyFailed
      # kstack_backup_verify_failed: 1 when the newest verification (restore + checks) failed, from the archivers.
      expr: max(kstack_backup_verify_failed{namespace="{{ $ns }}"}) > 0
      labels: { severity: critical, namespace: {{ $ns | quote }} }
      annotations:
        summary: The latest verification of a backup of {{ $db }} failed
    {{- if and (include "webstack.backup.archiverEnabled" .) .Values.backup.metrics.enabled }}
    - alert: WebstackBinlogArchiveBehind
      # kstack_binlog_archive_lag_seconds: how long the oldest binlogged transaction not yet archived has waited.
      expr: max(kstack_binlog_archive_lag_seconds{namespace="{{ $ns }}"}) > {{ .Values.backup.objectives.rpoSeconds }}
      for: {{ $r.for }}
      labels: { severity: critical, namespace: {{ $ns | quote }} }
      annotations:
        summary: Binlog archiving of {{ $db }} is {{ "{{" }} $value | humanizeDuration {{ "}}" }} behind, over the {{ .Values.backup.objectives.rpoSeconds }}s RPO
    {{- end }}
    {{- end }}
    {{- if .Values.web.metrics.enabled }}
    {{- $webReplicas := ternary .Values.web.autoscaling.minReplicas .Values.web.replicaCount .Values.web.autoscaling.enabled }}
    - alert: WebstackWebReplicasUnavailable
      # Web pods whose exporter answers (up == 1 per pod); a missing or failing replica lowers the count.
      expr: (count(up{namespace="{{ $ns }}",pod=~"{{ $web }}-.*",endpoint="metrics"} == 1) or vector(0)) < {{ $webReplicas }}
      for: {{ $r.for }}
      labels: { severity: warning, namespace: {{ $ns | quote }} }
      annotations:
        summary: '{{ "{{" }} $value {{ "}}" }} of the {{ $webReplicas }} replicas of {{ $web }} answer'
    {{- end }}
    - alert: WebstackWeb5xxRatio
      expr: ({{ tpl $r.web5xxRequests $tplCtx }}) / ({{ tpl $r.webAllRequests $tplCtx }}) > {{ $r.web5xxRatio }}
      for: {{ $r.for }}
      labels: { severity: warning, namespace: {{ $ns | quote }} }
      annotations:
        summary: More than {{ mulf $r.web5xxRatio 100 }}% of the responses of {{ $web }} are 5xx
    {{- if .Values.podwatch.enabled }}
    - alert: WebstackPodwatchDown
      expr: max(up{namespace="{{ $ns }}",pod=~"{{ $pw }}-.*"}) < 1 or absent(up{namespace="{{ $ns }}",pod=~"{{ $pw }}-.*"})
      for: {{ $r.for }}
      labels: { severity: warning, namespace: {{ $ns | quote }} }
      annotations:
        summary: No podwatch replica of {{ $pw }} answers its /metrics
    {{- end }}
{{- end -}}

{{/* Prometheus scrape jobs (kubernetes_sd, role pod) for a Prometheus without the Operator: one per component. */}}
{{- define "webstack.monitoring.scrapeConfigs" -}}
{{- $jobs := list -}}
{{- range $component, $on := dict "web" .Values.web.metrics.enabled "db" (and .Values.db.enabled .Values.db.metrics.enabled) "podwatch" .Values.podwatch.enabled }}
{{- if $on }}
- job_name: webstack/{{ $.Release.Namespace }}/{{ $.Release.Name }}/{{ $component }}
  metrics_path: /metrics
  scrape_interval: {{ $.Values.monitoring.interval }}
  kubernetes_sd_configs:
    - role: pod
      namespaces: { names: [{{ $.Release.Namespace | quote }}] }
  relabel_configs:
    # Only this release's {{ $component }} pods, and only their metrics port.
    - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_instance, __meta_kubernetes_pod_label_app_kubernetes_io_component, __meta_kubernetes_pod_container_port_name]
      regex: {{ printf "%s;%s;%s" $.Release.Name $component (ternary "http" (ternary "metrics|dr-metrics" "metrics" (eq $component "db")) (eq $component "podwatch")) | quote }}
      action: keep
    - { source_labels: [__meta_kubernetes_namespace], target_label: namespace }
    - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }
    - { source_labels: [__meta_kubernetes_pod_container_name], target_label: container }
{{- end }}
{{- end }}
{{- end -}}
