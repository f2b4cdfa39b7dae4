{{/*
Names and shared pieces of the backup component (disaster recovery, src/dr). Everything else comes from ../_helpers.tpl.

  webstack.backup.name            "<fullname>-backup"
  webstack.backup.storageSecret   Secret with the storage credentials (generated from values or existingSecret)
  webstack.backup.keySecret       Secret with the encryption key (generated once and kept, or existingSecret)
  webstack.backup.image           the DR jobs' image: backup.image, or db.image when its repository is empty
  webstack.backup.env             env of every DR process: storage, key, database (dict "ctx" $ "account" backup|restore|root)
  webstack.backup.dbAccounts      the DR Jobs' database accounts, as the agent config's drAccounts (JSON list)
  webstack.backup.agentInstall    init container copying Node.js and kstack into /opt/webstack-agent
  webstack.backup.jobPod          pod template of a DR Job (dict "ctx" $ "command" "backup" "args" (list))
  webstack.backup.archiver        the binlog archiver sidecar of the db StatefulSet
*/}}

{{- define "webstack.backup.name" -}}
{{- include "webstack.componentName" (dict "ctx" . "component" "backup") -}}
{{- end -}}

{{- define "webstack.backup.storageSecret" -}}
{{- default (printf "%s-storage" (include "webstack.backup.name" . | trunc 55 | trimSuffix "-")) .Values.backup.storage.credentials.existingSecret -}}
{{- end -}}

{{- define "webstack.backup.keySecret" -}}
{{- default (printf "%s-key" (include "webstack.backup.name" . | trunc 59 | trimSuffix "-")) .Values.backup.encryption.existingSecret -}}
{{- end -}}

{{- define "webstack.backup.image" -}}
{{- $img := .Values.backup.image -}}
{{- if not $img.repository }}{{ $img = .Values.db.image }}{{ end -}}
{{- include "webstack.image" (dict "ctx" . "image" $img) -}}
{{- end -}}

{{- define "webstack.backup.pullPolicy" -}}
{{- if .Values.backup.image.repository }}{{ .Values.backup.image.pullPolicy }}{{ else }}{{ .Values.db.image.pullPolicy }}{{ end -}}
{{- end -}}

{{/*
The DR Jobs' database accounts (src/galera/config.ts drAccountsSql): kstack_backup dumps with read-only
privileges (backup and verify Jobs), kstack_restore loads dumps and replays binlogs (the restore Job only).
Passwords: keys of the db Secret, each mounted only into the Job that logs in with it.
*/}}
{{- define "webstack.backup.accounts" -}}
{{- toJson (dict
  "backup" (dict "user" "kstack_backup" "key" "mariadb-backup-password")
  "restore" (dict "user" "kstack_restore" "key" "mariadb-restore-password")) -}}
{{- end -}}

{{- define "webstack.backup.dbAccounts" -}}
{{- $list := list -}}
{{- if .Values.backup.enabled -}}
{{- range $role, $a := include "webstack.backup.accounts" . | fromJson -}}
{{- $list = append $list (dict "role" $role "user" $a.user "passwordFile" (printf "/etc/webstack-db/secret/%s" $a.key)) -}}
{{- end -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}

{{/*
Environment of every DR process (src/dr): where the storage is, the key, the database. "account": backup or
restore (a Job, over TCP: KSTACK_DR_DB_HOST is the client Service, which routes to Synced members only; the
Job then pins one member by its stable name under KSTACK_DR_DB_MEMBER_DOMAIN for all its sessions), or root
(the archiver sidecar, over the member's socket).
*/}}
{{- define "webstack.backup.env" -}}
{{- $b := .ctx.Values.backup -}}
{{- $db := .ctx.Values.db -}}
{{- $account := index (include "webstack.backup.accounts" .ctx | fromJson) (.account | default "backup") -}}
- { name: KSTACK_DR_S3_ENDPOINT, value: {{ $b.storage.endpoint | quote }} }
- { name: KSTACK_DR_S3_BUCKET, value: {{ $b.storage.bucket | quote }} }
- { name: KSTACK_DR_S3_PREFIX, value: {{ $b.storage.prefix | quote }} }
- { name: KSTACK_DR_S3_REGION, value: {{ $b.storage.region | quote }} }
- { name: KSTACK_DR_S3_PATH_STYLE, value: {{ $b.storage.forcePathStyle | quote }} }
- { name: KSTACK_DR_S3_ACCESS_KEY_ID_FILE, value: /etc/webstack-backup/storage/access-key-id }
- { name: KSTACK_DR_S3_SECRET_ACCESS_KEY_FILE, value: /etc/webstack-backup/storage/secret-access-key }
- { name: KSTACK_DR_KEY_FILE, value: /etc/webstack-backup/key/backup-key }
- { name: KSTACK_DR_DB_HOST, value: {{ printf "%s.%s.svc.%s" (include "webstack.db.name" .ctx) .ctx.Release.Namespace $db.clusterDomain | quote }} }
- { name: KSTACK_DR_DB_PORT, value: {{ $db.service.port | quote }} }
- { name: KSTACK_DR_DB_MEMBER_DOMAIN, value: {{ printf "%s.%s.svc.%s" (include "webstack.db.headlessName" .ctx) .ctx.Release.Namespace $db.clusterDomain | quote }} }
{{- if eq .account "root" }}
- { name: KSTACK_DR_DB_USER, value: root }
- { name: KSTACK_DR_DB_PASSWORD_FILE, value: /etc/webstack-db/secret/mariadb-root-password }
{{- else }}
- { name: KSTACK_DR_DB_USER, value: {{ $account.user | quote }} }
- { name: KSTACK_DR_DB_PASSWORD_FILE, value: {{ printf "/etc/webstack-db/secret/%s" $account.key | quote }} }
{{- if include "webstack.db.tls" .ctx }}
# TLS to the member, verified against the db's CA and the member's name.
- { name: KSTACK_DR_DB_TLS_CA, value: {{ include "webstack.db.tlsCaFile" .ctx | quote }} }
{{- end }}
{{- end }}
- { name: KSTACK_DR_RETENTION_COUNT, value: {{ $b.retention.count | quote }} }
- { name: KSTACK_DR_RETENTION_MAX_AGE_DAYS, value: {{ $b.retention.maxAgeDays | quote }} }
{{- end -}}

{{- define "webstack.backup.secretMounts" -}}
- { name: backup-storage, mountPath: /etc/webstack-backup/storage, readOnly: true }
- { name: backup-key, mountPath: /etc/webstack-backup/key, readOnly: true }
{{- end -}}

{{- define "webstack.backup.secretVolumes" -}}
- name: backup-storage
  secret: { secretName: {{ include "webstack.backup.storageSecret" . }}, defaultMode: 0440 }
- name: backup-key
  secret: { secretName: {{ include "webstack.backup.keySecret" . }}, defaultMode: 0440 }
{{- end -}}

{{/* Same copy as the db StatefulSet's: Node.js and kstack's dist/ into an emptyDir, so the MariaDB image runs them. */}}
{{- define "webstack.backup.agentInstall" -}}
- name: agent-install
  image: {{ include "webstack.image" (dict "ctx" . "image" .Values.db.agent.image) | quote }}
  imagePullPolicy: {{ .Values.db.agent.image.pullPolicy }}
  command:
    - {{ .Values.db.agent.node | quote }}
    - -e
    - |
      const fs = require('fs'); const [, app, to] = process.argv;
      fs.rmSync(to + '/kstack', { recursive: true, force: true });
      for (const part of ['package.json', 'dist', 'node_modules']) fs.cpSync(app + '/' + part, to + '/kstack/' + part, { recursive: true });
      fs.copyFileSync(process.execPath, to + '/node'); fs.chmodSync(to + '/node', 0o755);
    - {{ .Values.db.agent.appDir | quote }}
    - /opt/webstack-agent
  resources:
    {{- toYaml .Values.db.agent.resources | nindent 4 }}
  securityContext:
    {{- include "webstack.containerSecurityContext" (dict "override" .Values.db.securityContext) | nindent 4 }}
  volumeMounts:
    - { name: agent, mountPath: /opt/webstack-agent }
{{- end -}}

{{/* Pod template of a DR Job: kstack's src/dr/<main> <command> <args> in the MariaDB image (main: main.js, or pitr-main.js for restore). */}}
{{- define "webstack.backup.jobPod" -}}
{{- $ := .ctx -}}
{{- $b := $.Values.backup -}}
{{- $role := ternary "restore" "backup" (eq .command "restore") -}}
{{- $account := index (include "webstack.backup.accounts" $ | fromJson) $role -}}
metadata:
  labels:
    {{- include "webstack.labels" (dict "ctx" $ "component" "backup") | nindent 4 }}
    kstack.io/dr-task: {{ .command }}
spec:
  {{- include "webstack.imagePullSecrets" (dict "ctx" $) | nindent 2 }}
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    {{- include "webstack.podSecurityContext" (dict "override" $.Values.db.podSecurityContext) | nindent 4 }}
  {{- include "webstack.placement" (dict "ctx" $ "values" $b) | nindent 2 }}
  initContainers:
    {{- include "webstack.backup.agentInstall" $ | nindent 4 }}
  containers:
    - name: {{ .command }}
      image: {{ include "webstack.backup.image" $ | quote }}
      imagePullPolicy: {{ include "webstack.backup.pullPolicy" $ }}
      command: ["/opt/webstack-agent/node", "/opt/webstack-agent/kstack/dist/src/dr/{{ .main | default "main.js" }}", {{ .command | quote }}{{ range .args }}, {{ . | quote }}{{ end }}]
      env:
        {{- include "webstack.backup.env" (dict "ctx" $ "account" $role) | nindent 8 }}
        - { name: HOME, value: /tmp }
      resources:
        {{- toYaml $b.resources | nindent 8 }}
      securityContext:
        {{- include "webstack.containerSecurityContext" (dict "override" $.Values.db.securityContext) | nindent 8 }}
      volumeMounts:
        - { name: agent, mountPath: /opt/webstack-agent, readOnly: true }
        - { name: tmp, mountPath: /tmp }
        - { name: db-secret, mountPath: /etc/webstack-db/secret, readOnly: true }
        {{- include "webstack.backup.secretMounts" $ | nindent 8 }}
        {{- if include "webstack.db.tls" $ }}
        - { name: db-tls-ca, mountPath: /etc/webstack-db/tls, readOnly: true }
        {{- end }}
  volumes:
    - { name: agent, emptyDir: {} }
    - { name: tmp, emptyDir: {} }
    # Only this Job's own password (optional: a db.auth.existingSecret without the key fails in the Job's log,
    # naming the key, instead of a pod stuck on a mount).
    - name: db-secret
      secret:
        secretName: {{ include "webstack.db.secretName" $ }}
        defaultMode: 0440
        optional: true
        items: [{ key: {{ $account.key }}, path: {{ $account.key }} }]
    {{- include "webstack.backup.secretVolumes" $ | nindent 4 }}
    {{- if include "webstack.db.tls" $ }}
    {{- include "webstack.db.tlsCaVolume" $ | nindent 4 }}
    {{- end }}
{{- end -}}

{{/*
The binlog archiver: a sidecar of every db member. It reads the member's closed binlogs from the shared
data volume (no replication account, no extra network path) and ships them; every member archives its own
stream, so losing a member loses no part of the archive.
*/}}
{{- define "webstack.backup.archiver" -}}
{{- $b := .Values.backup -}}
- name: binlog-archiver
  image: {{ include "webstack.image" (dict "ctx" . "image" .Values.db.image) | quote }}
  imagePullPolicy: {{ .Values.db.image.pullPolicy }}
  command: ["/opt/webstack-agent/node", "/opt/webstack-agent/kstack/dist/src/dr/binlog-main.js"]
  env:
    {{- include "webstack.backup.env" (dict "ctx" . "account" "root") | nindent 4 }}
    - name: KSTACK_BINLOG_STREAM
      valueFrom: { fieldRef: { fieldPath: metadata.name } }
    - { name: KSTACK_BINLOG_DIR, value: /var/lib/mysql }
    - { name: KSTACK_BINLOG_SOCKET, value: /run/mysqld/mysqld.sock }
    - { name: KSTACK_BINLOG_INTERVAL_SECONDS, value: {{ $b.binlog.flushIntervalSeconds | quote }} }
    - { name: KSTACK_BINLOG_METRICS_PORT, value: {{ $b.metrics.port | quote }} }
  ports:
    - { name: dr-metrics, containerPort: {{ $b.metrics.port }} }
  resources:
    {{- toYaml $b.binlog.resources | nindent 4 }}
  securityContext:
    {{- include "webstack.containerSecurityContext" (dict "override" .Values.db.securityContext) | nindent 4 }}
  volumeMounts:
    - { name: data, mountPath: /var/lib/mysql, readOnly: true }
    - { name: agent, mountPath: /opt/webstack-agent, readOnly: true }
    - { name: run, mountPath: /run/mysqld }
    - { name: secret, mountPath: /etc/webstack-db/secret, readOnly: true }
    {{- include "webstack.backup.secretMounts" . | nindent 4 }}
{{- end -}}

{{- define "webstack.backup.archiverEnabled" -}}
{{- if and .Values.backup.enabled .Values.backup.binlog.enabled .Values.db.enabled }}true{{ end -}}
{{- end -}}
