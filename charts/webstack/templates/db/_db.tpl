{{/*
Names and the agent config of the db component (MariaDB Galera). Everything else comes from ../_helpers.tpl.
*/}}

{{- define "webstack.db.name" -}}
{{- include "webstack.componentName" (dict "ctx" . "component" "db") -}}
{{- end -}}

{{- define "webstack.db.headlessName" -}}
{{- printf "%s-headless" (include "webstack.db.name" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{- define "webstack.db.secretName" -}}
{{- default (include "webstack.db.name" .) .Values.db.auth.existingSecret -}}
{{- end -}}

{{/*
Members of the StatefulSet: 1 in standalone mode, else db.replicaCount. values.schema.json already refuses
2 Galera members; this refuses them again for a render without the schema (--skip-schema-validation).
*/}}
{{- define "webstack.db.replicas" -}}
{{- if eq .Values.db.mode "standalone" }}1{{ else -}}
{{- if eq (int .Values.db.replicaCount) 2 -}}
{{- fail "db.replicaCount: 2 members cannot keep quorum when one is lost (Galera needs a majority); use 3 or more (an odd number), or db.mode=standalone for one member without HA" -}}
{{- end -}}
{{- .Values.db.replicaCount -}}
{{- end -}}
{{- end -}}

{{/*
The region block of the agent's config ("null": one region). Checks what a region needs, naming the value to
change: replication reads the binlog, travels over TLS, and the Galera GTID mode is what lets any member feed
a replica.
*/}}
{{- define "webstack.db.region" -}}
{{- $r := .Values.db.replication -}}
{{- if $r.role -}}
{{- if not .Values.region.name }}{{ fail "region.name: db.replication.role is set, so this release is one of two regions; name it (e.g. east)" }}{{ end -}}
{{- if ne .Values.db.mode "galera" }}{{ fail "db.mode: db.replication.role needs galera (the GTID mode that lets any member feed the other region)" }}{{ end -}}
{{- if not (include "webstack.db.tls" .) }}{{ fail "db.tls.enabled: db.replication.role needs TLS (replication crosses the regions' entry points)" }}{{ end -}}
{{- if not (include "webstack.backup.archiverEnabled" .) }}{{ fail "backup.binlog.enabled: db.replication.role needs the binary log (backup.enabled and backup.binlog.enabled)" }}{{ end -}}
{{- toJson (dict "name" .Values.region.name "serverId" (int64 $r.serverId) "gtidDomainId" (int64 $r.gtidDomainId) "initialRole" $r.role "replicationAccount" (dict "user" $r.username "passwordFile" "/etc/webstack-db/secret/mariadb-replication-password")) -}}
{{- else -}}
null
{{- end -}}
{{- end -}}

{{/* The agent's JSON config (src/galera/config.ts): peers are the StatefulSet's pods behind the headless Service. */}}
{{- define "webstack.db.agentConfig" -}}
{{- $db := .Values.db -}}
{{- $extra := list -}}
{{- range $k, $v := $db.config.mysqld }}{{ $extra = append $extra (printf "%s=%v" $k $v) }}{{ end -}}
{{- $cfg := dict
  "mode" $db.mode
  "statefulSet" (dict
    "name" (include "webstack.db.name" .)
    "replicas" (int (include "webstack.db.replicas" .))
    "domain" (printf "%s.%s.svc.%s" (include "webstack.db.headlessName" .) .Release.Namespace $db.clusterDomain)
    "sqlPort" (int $db.ports.mysql) "galeraPort" (int $db.ports.galera) "istPort" (int $db.ports.ist)
    "sstPort" (int $db.ports.sst) "agentPort" (int $db.ports.agent))
  "clusterName" (include "webstack.db.name" .)
  "dataDir" "/var/lib/mysql"
  "runDir" "/run/mysqld"
  "bindAddress" "0.0.0.0"
  "mariadbd" $db.mariadbd
  "installDb" $db.installDb
  "sstMethod" $db.sstMethod
  "rootPasswordFile" "/etc/webstack-db/secret/mariadb-root-password"
  "app" (dict "user" $db.auth.username "passwordFile" "/etc/webstack-db/secret/mariadb-password" "database" $db.auth.database)
  "extraMysqld" $extra
  "pollMs" 1000
  "binlog" (eq (include "webstack.backup.archiverEnabled" .) "true")
  "drAccounts" (include "webstack.backup.dbAccounts" . | fromJsonArray)
  "tls" (ternary (dict "ca" "/etc/webstack-db/tls/ca.crt" "cert" "/etc/webstack-db/tls/tls.crt" "key" "/etc/webstack-db/tls/tls.key") nil (eq (include "webstack.db.tls" .) "true"))
  "region" (include "webstack.db.region" . | fromJson)
-}}
{{- toJson $cfg -}}
{{- end -}}

{{/* The Service that exposes the members' SQL port to the other region (db.replication.service). */}}
{{- define "webstack.db.replicationServiceName" -}}
{{- printf "%s-replication" (include "webstack.db.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret with the members' TLS (ca.crt, tls.crt, tls.key): the user's, or the chart's. */}}
{{- define "webstack.db.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "webstack.db.name" .) | trunc 63 | trimSuffix "-") .Values.db.tls.existingSecret -}}
{{- end -}}

{{/* "true" when the db serves TLS (and requires it). */}}
{{- define "webstack.db.tls" -}}
{{- if and .Values.db.enabled .Values.db.tls.enabled }}true{{ end -}}
{{- end -}}

{{/*
Names the server certificate must carry: every name a client of the chart reaches a member by. The client
Service (short, namespaced and full), each member's stable name under the headless Service, and loopback
(the exporter and in-pod clients). Galera and SST peers reach each other by IP and check the CA only.
*/}}
{{- define "webstack.db.tlsDnsNames" -}}
{{- $ns := .Release.Namespace -}}
{{- $domain := .Values.db.clusterDomain -}}
{{- $names := list "localhost" -}}
{{- range $svc := list (include "webstack.db.name" .) (include "webstack.db.headlessName" .) -}}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns $domain)) -}}
{{- end -}}
{{- $h := include "webstack.db.headlessName" . -}}
{{- $names = concat $names (list (printf "*.%s" $h) (printf "*.%s.%s" $h $ns) (printf "*.%s.%s.svc" $h $ns) (printf "*.%s.%s.svc.%s" $h $ns $domain)) -}}
{{- toJson $names -}}
{{- end -}}

{{/* Mount of the CA alone, for the db's clients (web, backup Jobs, tests): they verify the server with it. */}}
{{- define "webstack.db.tlsCaVolume" -}}
- name: db-tls-ca
  secret:
    secretName: {{ include "webstack.db.tlsSecretName" . }}
    items: [{ key: ca.crt, path: ca.crt }]
{{- end -}}

{{/* Where clients find the CA (webstack.db.tlsCaVolume mounted at /etc/webstack-db/tls). */}}
{{- define "webstack.db.tlsCaFile" -}}/etc/webstack-db/tls/ca.crt{{- end -}}

{{/*
The server certificate's generation: db.tls.rotation, or the live Secret's when that is higher. A values file
that still says 0 after `kstack db rotate-certs` (a plain re-run of `kstack up` or `helm upgrade -f`) then
neither re-issues the certificate nor restarts the members; only a higher number does.
*/}}
{{- define "webstack.db.tlsRotation" -}}
{{- $r := int .Values.db.tls.rotation -}}
{{- if not .Values.db.tls.existingSecret -}}
{{- $live := lookup "v1" "Secret" .Release.Namespace (include "webstack.db.tlsSecretName" .) -}}
{{- if and $live $live.metadata $live.metadata.annotations -}}
{{- $n := index $live.metadata.annotations "webstack.kstack.io/tls-rotation" | default "0" | atoi -}}
{{- if gt $n $r }}{{ $r = $n }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $r -}}
{{- end -}}
