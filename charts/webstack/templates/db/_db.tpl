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
-}}
{{- toJson $cfg -}}
{{- end -}}
