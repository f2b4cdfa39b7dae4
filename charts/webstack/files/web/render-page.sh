#!/bin/sh
# Renders this pod's page before nginx starts (the web pods' init container). POSIX sh, sed, cat and date
# only, so it runs in the public nginx image and in the Debian-built local image alike.
#   in:  POD_NAME, POD_IP, NODE_NAME, POD_NAMESPACE (downward API), SERVING_HOST_FORMAT, SUFFIX_LENGTH,
#        PAGE_TITLE, REGION (empty: none shown), PAGE_SOURCE_DIR (index.html.tmpl, page.css, page.js),
#        PAGE_OUTPUT_DIR
#   out: index.html, page.css, page.js, pod.json and serving-host in PAGE_OUTPUT_DIR
set -eu

fail() { echo "render-page: $*" >&2; exit 1; }

: "${POD_NAME:?render-page: POD_NAME is not set (downward API metadata.name)}"
: "${POD_IP:?render-page: POD_IP is not set (downward API status.podIP)}"
NODE_NAME=${NODE_NAME:-unknown}
POD_NAMESPACE=${POD_NAMESPACE:-unknown}
SERVING_HOST_FORMAT=${SERVING_HOST_FORMAT:-Host-{suffix\}}
SUFFIX_LENGTH=${SUFFIX_LENGTH:-5}
PAGE_TITLE=${PAGE_TITLE:-webstack}
REGION=${REGION:-}
src=${PAGE_SOURCE_DIR:-/etc/kstack/web}
out=${PAGE_OUTPUT_DIR:-/var/lib/kstack/page}

case $SUFFIX_LENGTH in
  ''|*[!0-9]*) fail "SUFFIX_LENGTH must be a positive number, got '$SUFFIX_LENGTH'" ;;
esac
[ "$SUFFIX_LENGTH" -gt 0 ] || fail "SUFFIX_LENGTH must be a positive number, got '$SUFFIX_LENGTH'"
[ -r "$src/index.html.tmpl" ] || fail "no page template at $src/index.html.tmpl"
[ -d "$out" ] || fail "output directory $out does not exist"

# Escapes text for the replacement side of a sed s||| command.
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
# Escapes text for HTML element content and attribute values.
html_escape() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
# Escapes text for a JSON string.
json_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }

# The last SUFFIX_LENGTH characters of the pod name (all of it when it is shorter).
suffix=$(printf '%s' "$POD_NAME" | sed -e "s/^.*\(.\{$SUFFIX_LENGTH\}\)\$/\1/")
serving_host=$(printf '%s' "$SERVING_HOST_FORMAT" | sed -e "s|{suffix}|$(sed_escape "$suffix")|g" -e "s|{podName}|$(sed_escape "$POD_NAME")|g")
rendered_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# The "served from region" line is hidden when no region is set.
region_hidden=
[ -n "$REGION" ] || region_hidden=hidden


# Write to temporary names, then rename: nginx never sees a half-written page.
sed -e "s|@@TITLE@@|$(sed_escape "$(html_escape "$PAGE_TITLE")")|g" \
    -e "s|@@SERVING_HOST@@|$(sed_escape "$(html_escape "$serving_host")")|g" \
    -e "s|@@POD_IP@@|$(sed_escape "$(html_escape "$POD_IP")")|g" \
    -e "s|@@POD_NAME@@|$(sed_escape "$(html_escape "$POD_NAME")")|g" \
    -e "s|@@NODE_NAME@@|$(sed_escape "$(html_escape "$NODE_NAME")")|g" \
    -e "s|@@POD_NAMESPACE@@|$(sed_escape "$(html_escape "$POD_NAMESPACE")")|g" \
    -e "s|@@REGION@@|$(sed_escape "$(html_escape "$REGION")")|g" \
    -e "s|@@REGION_HIDDEN@@|$region_hidden|g" \
    -e "s|@@RENDERED_AT@@|$rendered_at|g" \
    "$src/index.html.tmpl" > "$out/.index.html.tmp"
for asset in page.css page.js; do
  if [ -r "$src/$asset" ]; then cat "$src/$asset" > "$out/.$asset.tmp"; mv "$out/.$asset.tmp" "$out/$asset"; fi
done
printf '{"podName":"%s","podIP":"%s","nodeName":"%s","namespace":"%s","servingHost":"%s","renderedAt":"%s"}\n' \
  "$(json_escape "$POD_NAME")" "$(json_escape "$POD_IP")" "$(json_escape "$NODE_NAME")" \
  "$(json_escape "$POD_NAMESPACE")" "$(json_escape "$serving_host")" "$rendered_at" > "$out/.pod.json.tmp"
printf '%s\n' "$serving_host" > "$out/.serving-host.tmp"
mv "$out/.pod.json.tmp" "$out/pod.json"
mv "$out/.serving-host.tmp" "$out/serving-host"
mv "$out/.index.html.tmp" "$out/index.html"
echo "render-page: rendered the page for pod $POD_NAME ($POD_IP) on $NODE_NAME: serving-host=$serving_host"
