{{/*
Helpers of the `helm test` pods (templates/tests/, one file per test). Each pod runs the in-image test
program (src/charttest/main.ts) in the webinfo image and carries the release's selector labels with its own
component (test-page, test-db, test-db-closed), so default-deny and the DNS policy apply to it and
templates/network/tests.yaml opens exactly what it needs.

  webstack.tests.on           (dict "ctx" $ "key" "dbClosed")  "true" when tests.enabled and tests.<key>.enabled
  webstack.tests.members      (dict "ctx" $)  the db members' stable names, comma-separated, in ordinal order
  webstack.tests.webHost      (dict "ctx" $)  the web Service's DNS name
  webstack.tests.pod          (dict "ctx" $ "test" "db-closed" "component" "test-db-closed" "weight" 3 "env" "<YAML list>")
                              the test Pod: hooks, labels, image, security, placement, the command with the
                              test's name appended
*/}}

{{- define "webstack.tests.on" -}}
{{- $t := .ctx.Values.tests -}}
{{- if and $t.enabled (index $t .key).enabled }}true{{ end -}}
{{- end -}}

{{- define "webstack.tests.members" -}}
{{- $ctx := .ctx -}}
{{- $sts := include "webstack.db.name" $ctx -}}
{{- $domain := printf "%s.%s.svc.%s" (include "webstack.db.headlessName" $ctx) $ctx.Release.Namespace $ctx.Values.db.clusterDomain -}}
{{- $out := list -}}
{{- /* As webstack.db.replicas counts them, without its refusal of 2 members: that stays the db template's. */ -}}
{{- $n := ternary 1 (int $ctx.Values.db.replicaCount) (eq $ctx.Values.db.mode "standalone") -}}
{{- range $i := until $n -}}
{{- $out = append $out (printf "%s-%d.%s" $sts $i $domain) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{- define "webstack.tests.webHost" -}}
{{- printf "%s.%s.svc.%s" (include "webstack.componentName" (dict "ctx" .ctx "component" "web")) .ctx.Release.Namespace .ctx.Values.db.clusterDomain -}}
{{- end -}}

{{- define "webstack.tests.pod" -}}
{{- $ctx := .ctx -}}
{{- $t := $ctx.Values.tests -}}
{{- $wi := $ctx.Values.webinfo -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "webstack.componentName" (dict "ctx" $ctx "component" .component) }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "webstack.labels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
  annotations:
    helm.sh/hook: test
    # Kept after it ends, passed or failed, so `helm test --logs` (and kubectl logs) can show why; the next
    # `helm test` deletes it before creating it again.
    helm.sh/hook-delete-policy: before-hook-creation
    helm.sh/hook-weight: {{ .weight | quote }}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  # A backstop: the program itself ends within tests.timeoutSeconds.
  activeDeadlineSeconds: {{ add $t.timeoutSeconds 30 }}
  securityContext:
    {{- include "webstack.podSecurityContext" (dict "override" $t.podSecurityContext) | nindent 4 }}
  {{- with include "webstack.imagePullSecrets" (dict "ctx" $ctx) | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with $t.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $t.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $t.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: test
      image: {{ include "webstack.image" (dict "ctx" $ctx "image" $wi.image) | quote }}
      imagePullPolicy: {{ $wi.image.pullPolicy }}
      command: {{ toJson (concat $t.command (list .test)) }}
      workingDir: {{ $wi.workingDir | quote }}
      env:
        - { name: CHARTTEST_TIMEOUT_SECONDS, value: {{ $t.timeoutSeconds | quote }} }
        - { name: CHARTTEST_CONNECT_TIMEOUT_SECONDS, value: {{ $t.connectTimeoutSeconds | quote }} }
        {{- .env | nindent 8 }}
      securityContext:
        {{- include "webstack.containerSecurityContext" (dict "override" $t.securityContext) | nindent 8 }}
      resources:
        {{- toYaml $t.resources | nindent 8 }}
{{- end -}}
