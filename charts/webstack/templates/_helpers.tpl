{{/*
Helpers shared by every component of the chart (web, podwatch, db). Call them with a dict where noted.

  webstack.name                 chart name (or .Values.nameOverride), 63 chars max
  webstack.fullname             release-qualified name (or .Values.fullnameOverride), 63 chars max
  webstack.componentName        (dict "ctx" $ "component" "web")  -> "<fullname>-web"
  webstack.chart                "webstack-0.1.0" for the helm.sh/chart label
  webstack.labels               (dict "ctx" $ "component" "web")  full app.kubernetes.io/* label set (+ .Values.commonLabels)
  webstack.selectorLabels       (dict "ctx" $ "component" "web")  the immutable subset used in selectors
  webstack.image                (dict "ctx" $ "image" .Values.web.image)  "repo:tag", "repo@digest" or "repo:tag@digest";
                                .Values.global.imageRegistry, when set, is put in front of the repository
  webstack.imagePullSecrets     (dict "ctx" $)  an imagePullSecrets: block from .Values.global.imagePullSecrets (or nothing)
  webstack.podSecurityContext   (dict "override" .Values.web.podSecurityContext)  Pod Security "restricted" defaults,
                                overridden key by key
  webstack.containerSecurityContext (dict "override" ...)  the same for containers: non-root, read-only root fs,
                                no privilege escalation, every capability dropped, RuntimeDefault seccomp
  webstack.placement            (dict "ctx" $ "component" "web" "values" .Values.web)  nodeSelector, affinity,
                                tolerations, topologySpreadConstraints and priorityClassName: placement.preset for
                                that component (web, db, podwatch, backup) merged with the explicit values
  webstack.placementPreset      (dict "ctx" $ "component" "db")  the preset's part alone, as JSON
  webstack.serviceExposure      (.Values.web.service)  externalTrafficPolicy (NodePort/LoadBalancer) and
                                loadBalancerClass (LoadBalancer, when set) of a Service spec, or nothing
*/}}

{{- define "webstack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "webstack.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "webstack.componentName" -}}
{{- printf "%s-%s" (include "webstack.fullname" .ctx | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component -}}
{{- end -}}

{{- define "webstack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "webstack.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webstack.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "webstack.labels" -}}
helm.sh/chart: {{ include "webstack.chart" .ctx }}
{{ include "webstack.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: webstack
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "webstack.image" -}}
{{- $registry := "" -}}
{{- with .ctx.Values.global }}{{ $registry = .imageRegistry | default "" }}{{ end -}}
{{- $repo := .image.repository -}}
{{- if $registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $registry) $repo }}{{ end -}}
{{- if and .image.tag .image.digest -}}
{{- printf "%s:%s@%s" $repo (toString .image.tag) .image.digest -}}
{{- else if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString (.image.tag | default .ctx.Chart.AppVersion)) -}}
{{- end -}}
{{- end -}}

{{- define "webstack.imagePullSecrets" -}}
{{- $secrets := list -}}
{{- with .ctx.Values.global }}{{ $secrets = .imagePullSecrets | default list }}{{ end -}}
{{- if $secrets }}
imagePullSecrets:
{{- range $secrets }}
  - name: {{ . | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "webstack.podSecurityContext" -}}
{{- $defaults := dict "runAsNonRoot" true "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $defaults (deepCopy (.override | default dict))) -}}
{{- end -}}

{{- define "webstack.containerSecurityContext" -}}
{{- $defaults := dict "runAsNonRoot" true "allowPrivilegeEscalation" false "readOnlyRootFilesystem" true "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $defaults (deepCopy (.override | default dict))) -}}
{{- end -}}

{{/*
The placement preset's part for one component (a dict: affinity, tolerations, topologySpreadConstraints).
See values.yaml "placement" and docs/chart.md "Placement".
  soft: preferred node affinity to the role's nodes, preferred one pod per node, the db taint tolerated (db, backup)
  hard: the same with required node affinity
  ha:   hard, plus required one db member per node, and web pods spread evenly over the web nodes
        (topologySpreadConstraints, DoNotSchedule; matchLabelKeys pod-template-hash counts only the pods of
        the same rollout, so a rolling update's surge pod is not held back by the old ReplicaSet's pods)
  (dict "ctx" $ "component" "db")
*/}}
{{- define "webstack.placementPreset" -}}
{{- $p := .ctx.Values.placement -}}
{{- $preset := $p.preset | default "none" -}}
{{- $out := dict "affinity" dict "tolerations" list "topologySpreadConstraints" list -}}
{{- if ne $preset "none" -}}
{{- $required := or (eq $preset "hard") (eq $preset "ha") -}}
{{- $selector := include "webstack.selectorLabels" (dict "ctx" .ctx "component" .component) | fromYaml -}}
{{- $byHost := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" $selector) -}}
{{- $spread := list (dict "weight" 100 "podAffinityTerm" $byHost) -}}
{{- $roleLabel := "" -}}
{{- if eq .component "web" }}{{ $roleLabel = $p.webNodeLabel }}{{ end -}}
{{- if eq .component "db" }}{{ $roleLabel = $p.dbNodeLabel }}{{ end -}}
{{- if and (eq $preset "ha") (eq .component "db") -}}
{{- $_ := set $out.affinity "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $byHost)) -}}
{{- else if ne .component "backup" -}}
{{- $_ := set $out.affinity "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" $spread) -}}
{{- end -}}
{{- if and (eq $preset "ha") (eq .component "web") -}}
{{- $_ := set $out "topologySpreadConstraints" (list (dict "maxSkew" 1 "topologyKey" "kubernetes.io/hostname" "whenUnsatisfiable" "DoNotSchedule" "labelSelector" (dict "matchLabels" $selector) "matchLabelKeys" (list "pod-template-hash"))) -}}
{{- end -}}
{{- if $roleLabel -}}
{{- $term := dict "matchExpressions" (list (dict "key" $roleLabel "operator" "Exists")) -}}
{{- if $required -}}
{{- $_ := set $out.affinity "nodeAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (dict "nodeSelectorTerms" (list $term))) -}}
{{- else -}}
{{- $_ := set $out.affinity "nodeAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 50 "preference" $term))) -}}
{{- end -}}
{{- end -}}
{{- if or (eq .component "db") (eq .component "backup") -}}
{{- $t := $p.dbTaint -}}
{{- $_ := set $out "tolerations" (list (dict "key" $t.key "operator" "Equal" "value" $t.value "effect" $t.effect)) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
nodeSelector, affinity, tolerations, topologySpreadConstraints and priorityClassName of a pod: the preset
(placement.preset) merged with the component's own keys. The rule (docs/chart.md, "Placement"):
  - affinity: each of nodeAffinity / podAffinity / podAntiAffinity given explicitly replaces the preset's;
  - tolerations: the preset's, then the explicit ones (an identical one is not repeated);
  - topologySpreadConstraints: the explicit list, when not empty, replaces the preset's (only "ha" sets one,
    for web);
  - nodeSelector, priorityClassName: only the explicit values (presets set none).
  (dict "ctx" $ "component" "web" "values" .Values.web)
*/}}
{{- define "webstack.placement" -}}
{{- $preset := include "webstack.placementPreset" (dict "ctx" .ctx "component" (.component | default "")) | fromJson -}}
{{- $affinity := deepCopy (.values.affinity | default dict) -}}
{{- range $k, $v := $preset.affinity }}{{ if not (hasKey $affinity $k) }}{{ $_ := set $affinity $k $v }}{{ end }}{{ end -}}
{{- $tolerations := $preset.tolerations | default list -}}
{{- range (.values.tolerations | default list) }}{{ if not (has . $tolerations) }}{{ $tolerations = append $tolerations . }}{{ end }}{{ end -}}
{{- with .values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints | default $preset.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The parts of a Service spec that only some types take (the API refuses them on the others):
externalTrafficPolicy for NodePort and LoadBalancer, loadBalancerClass for LoadBalancer when not empty.
  (.Values.web.service) or (.Values.podwatch.service)
*/}}
{{- define "webstack.serviceExposure" -}}
{{- if has .type (list "NodePort" "LoadBalancer") }}
externalTrafficPolicy: {{ .externalTrafficPolicy | default "Cluster" }}
{{- end }}
{{- if and (eq .type "LoadBalancer") .loadBalancerClass }}
loadBalancerClass: {{ .loadBalancerClass | quote }}
{{- end }}
{{- end -}}

{{/*
Pod annotations: prometheus.io/scrape, /port and /path when the pod exports metrics and
monitoring.annotations is on, then the component's podAnnotations (which win on a clash).
  (dict "ctx" $ "port" 9113 "metrics" true "extra" .Values.web.podAnnotations)
*/}}
{{- define "webstack.podAnnotations" -}}
{{- $out := dict -}}
{{- if and .metrics .ctx.Values.monitoring.annotations -}}
{{- $out = dict "prometheus.io/scrape" "true" "prometheus.io/port" (toString .port) "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- $out = mergeOverwrite $out (deepCopy (.extra | default dict)) -}}
{{- with $out }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{- define "webstack.podwatch.serviceAccountName" -}}
{{- if .Values.podwatch.serviceAccount.create -}}
{{- default (include "webstack.componentName" (dict "ctx" . "component" "podwatch")) .Values.podwatch.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.podwatch.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "webstack.podwatch.leaseName" -}}
{{- default (include "webstack.componentName" (dict "ctx" . "component" "podwatch")) .Values.podwatch.leaderElection.leaseName -}}
{{- end -}}
