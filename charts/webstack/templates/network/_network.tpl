{{/*
Helpers of the network policies (templates/network/). Pods are told apart by their selector labels:
app.kubernetes.io/{name,instance} for the release, plus app.kubernetes.io/component = web | db | podwatch |
backup (the backup and verify Jobs of templates/backup/).

  webstack.releaseSelector      (dict "ctx" $)  matchLabels of every pod of the release
  webstack.componentPeer        (dict "ctx" $ "component" "db")  a NetworkPolicyPeer: that component's pods
  webstack.metricsPeers         (dict "ctx" $)  peers allowed to scrape metrics (networkPolicy.metrics), or nothing
*/}}

{{- define "webstack.releaseSelector" -}}
app.kubernetes.io/name: {{ include "webstack.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{- define "webstack.componentPeer" -}}
- podSelector:
    matchLabels:
      {{- include "webstack.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "webstack.metricsPeers" -}}
{{- with .ctx.Values.networkPolicy.metrics.fromNamespaces -}}
- namespaceSelector:
    matchExpressions:
      - { key: kubernetes.io/metadata.name, operator: In, values: {{ toJson . }} }
{{- end }}
{{- end -}}

{{/* Whether backups are on (templates/backup/: backup.enabled). */}}
{{- define "webstack.backupEnabled" -}}
{{- $b := .Values.backup | default dict -}}
{{- if and (kindIs "map" $b) $b.enabled }}true{{ end -}}
{{- end -}}

{{/* An egress rule to object storage (networkPolicy.objectStorage), or nothing when no peer is set. (dict "ctx" $) */}}
{{- define "webstack.objectStorageEgress" -}}
{{- $os := .ctx.Values.networkPolicy.objectStorage -}}
{{- if or $os.cidrs $os.namespaces -}}
- to:
    {{- range $os.cidrs }}
    - ipBlock: { cidr: {{ . | quote }} }
    {{- end }}
    {{- with $os.namespaces }}
    - namespaceSelector:
        matchExpressions:
          - { key: kubernetes.io/metadata.name, operator: In, values: {{ toJson . }} }
    {{- end }}
  {{- with $os.ports }}
  ports:
    {{- range . }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/* Name of the NetworkAttachmentDefinition of networks.secondary. */}}
{{- define "webstack.secondaryNetworkName" -}}
{{- include "webstack.componentName" (dict "ctx" . "component" "dbnet") -}}
{{- end -}}

{{/*
The pod annotation that attaches a pod to the secondary network (db pods; backup Jobs with
networks.secondary.attachBackup). Empty when the network is off. (dict "ctx" $ "component" "db")
*/}}
{{- define "webstack.secondaryNetworkAnnotation" -}}
{{- $sec := .ctx.Values.networks.secondary -}}
{{- if and $sec.enabled (or (eq .component "db") (and (eq .component "backup") $sec.attachBackup)) -}}
k8s.v1.cni.cncf.io/networks: {{ toJson (list (dict "name" (include "webstack.secondaryNetworkName" .ctx) "namespace" .ctx.Release.Namespace "interface" $sec.interface)) | quote }}
{{- end -}}
{{- end -}}
