{{/*
nginx configuration of the web tier. Relative paths resolve against nginx's prefix (-p), an emptyDir in
the pod, so the same files run in the public nginx image, in the Debian-built local image and on a
workstation (the tests run them on loopback). Includes resolve against the directory of nginx.conf.
*/}}

{{- define "webstack.web.nginxConf" -}}
{{- $c := .Values.web.config -}}
# Rendered by the webstack chart ({{ include "webstack.chart" . }}).
worker_processes {{ $c.workerProcesses }};
daemon off;
pid nginx.pid;
error_log stderr warn;

events {
    worker_connections {{ $c.workerConnections }};
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;

    # Writable paths live under the prefix: the root filesystem is read-only.
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout {{ $c.keepaliveTimeout }};
    server_tokens {{ ternary "on" "off" $c.serverTokens }};
    client_max_body_size {{ $c.clientMaxBodySize }};
    # The page and its assets are a handful of small files: keep their descriptors open.
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 30s;

{{- if $c.accessLog }}

    log_format webstack_json escape=json '{"time":"$time_iso8601","remote":"$remote_addr","method":"$request_method",'
        '"uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,"seconds":$request_time,'
        '"agent":"$http_user_agent","request_id":"$request_id"}';
    # Buffered so a busy pod does not pay one write per request; flushed at least every second.
    access_log /dev/stdout webstack_json buffer=32k flush=1s;
{{- else }}
    access_log off;
{{- end }}

{{- if $c.gzip }}

    gzip on;
    gzip_vary on;
    gzip_min_length 512;
    gzip_types text/css application/javascript application/json image/svg+xml text/plain;
{{- end }}

{{- if .Values.webinfo.enabled }}

    upstream webinfo {
        server 127.0.0.1:{{ .Values.webinfo.port }};
        keepalive 8;
    }
{{- end }}

{{- with $c.httpSnippet }}

    # web.config.httpSnippet
{{ . | indent 4 }}
{{- end }}

    include site-*.conf;
{{- if .Values.web.metrics.enabled }}

    # stub_status for the exporter sidecar, on loopback only (the exporter turns it into /metrics).
    server {
        listen 127.0.0.1:{{ .Values.web.metrics.statusPort }};
        access_log off;
        location = /stub_status {
            stub_status;
        }
        location / {
            return 404;
        }
    }
{{- end }}
{{- if $c.extraServers }}
    include server-*.conf;
{{- end }}
}
{{ end -}}

{{- define "webstack.web.siteConf" -}}
{{- $c := .Values.web.config -}}
# The default server: the dynamic page, its assets, /api/ (the webinfo companion) and /healthz.
server {
    listen {{ .Values.web.containerPort }} default_server;
    server_name _;
    root html;
    index index.html;
{{- if $c.securityHeaders }}

    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options DENY always;
    add_header Referrer-Policy no-referrer always;
    add_header Content-Security-Policy "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'" always;
{{- end }}

    location = /healthz {
        access_log off;
        default_type text/plain;
        return 200 "ok\n";
    }

    location /api/ {
{{- if .Values.webinfo.enabled }}
        proxy_pass http://webinfo;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Request-Id $request_id;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_connect_timeout 2s;
        proxy_read_timeout 10s;
        # The page script expects JSON, also when the companion is down or restarting.
        error_page 502 503 504 =503 @webinfo_unavailable;
{{- else }}
        default_type application/json;
        return 503 '{"error":"the webinfo companion is disabled (webinfo.enabled=false)"}';
{{- end }}
        expires -1;
    }

{{- if .Values.webinfo.enabled }}

    location @webinfo_unavailable {
        default_type application/json;
        expires -1;
        return 503 '{"error":"the webinfo companion in this pod is not answering"}';
    }
{{- end }}

    location / {
        try_files $uri $uri/ =404;
{{- if gt (int $c.pageMaxAgeSeconds) 0 }}
        expires {{ $c.pageMaxAgeSeconds }}s;
{{- else }}
        expires -1;
{{- end }}
    }

{{- with $c.serverSnippet }}

    # web.config.serverSnippet
{{ . | indent 4 }}
{{- end }}
}
{{ end -}}
