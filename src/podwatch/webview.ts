// The live web view: one self-contained page (no external assets, so it works air-gapped) that shows a
// timeline of events, the firing alerts and the current pods, filtered by namespace, label and type, updated
// over SSE. Snapshots (what existed at start) are one timeline entry each; the page reloads the table they fill.

export const WEB_VIEW_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>podwatch</title>
<style>
  :root { --bg:#0f1419; --panel:#161d24; --line:#243040; --text:#d7dee6; --muted:#7d8b99; --green:#3fb950;\
 --yellow:#d29922; --red:#f85149; --blue:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 "DejaVu Sans", system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line);\
 background:var(--panel); position:sticky; top:0; z-index:1; }
  header h1 { font-size:17px; margin:0; letter-spacing:.3px; }
  header h1 span { color:var(--blue); }
  #status { font-size:12px; color:var(--muted); }
  #status.live::before { content:"●"; color:var(--green); margin-right:5px; }
  #status.down::before { content:"●"; color:var(--red); margin-right:5px; }
  .filters { display:flex; gap:10px; margin-left:auto; flex-wrap:wrap; align-items:center; }
  input[type=text] { background:var(--bg); border:1px solid var(--line); color:var(--text); padding:6px 9px;\
 border-radius:6px; width:170px; font:inherit; }
  label.t { font-size:12px; color:var(--muted); display:flex; gap:4px; align-items:center; }
  main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
  section h2 { margin:0; padding:10px 14px; font-size:13px; text-transform:uppercase; letter-spacing:.8px;\
 color:var(--muted); border-bottom:1px solid var(--line); display:flex; justify-content:space-between; }
  ol { list-style:none; margin:0; padding:0; max-height:calc(100vh - 140px); overflow:auto; }
  li.ev { padding:8px 14px; border-bottom:1px solid var(--line); display:grid; grid-template-columns:88px 80px 1fr;\
 gap:8px; }
  li.ev.fresh { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background:#1f3a5a; } to { background:transparent; } }
  .time { color:var(--muted); font-family:"DejaVu Sans Mono", monospace; font-size:12px; }
  .type { font-weight:600; font-size:12px; text-transform:uppercase; }
  .created { color:var(--green); } .updated { color:var(--yellow); } .deleted { color:var(--red); }
  .snapshot { color:var(--blue); } .alert-firing { color:var(--red); } .alert-resolved { color:var(--green); }
  .pod { font-family:"DejaVu Sans Mono", monospace; }
  .changes { grid-column:3; font-size:12px; color:var(--muted); font-family:"DejaVu Sans Mono", monospace;\
 word-break:break-all; }
  .changes b { color:var(--text); font-weight:normal; }
  .relist { font-size:11px; color:var(--blue); margin-left:6px; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:7px 12px; border-bottom:1px solid var(--line); font-size:13px; }
  th { color:var(--muted); font-weight:normal; font-size:12px; }
  td.name { font-family:"DejaVu Sans Mono", monospace; }
  .phase { padding:1px 8px; border-radius:10px; font-size:12px; background:#22303d; }
  .phase.Running { background:#1b3a26; color:var(--green); } .phase.Pending { background:#3a3020; color:var(--yellow); }
  .phase.Failed { background:#3d1f22; color:var(--red); } .phase.Succeeded { background:#1d2c42; color:var(--blue); }
  .empty { padding:18px 14px; color:var(--muted); }
  .side { display:flex; flex-direction:column; gap:16px; min-width:0; }
  ul.alerts { list-style:none; margin:0; padding:0; max-height:40vh; overflow:auto; }
  li.alert { padding:8px 14px 8px 11px; border-bottom:1px solid var(--line); border-left:3px solid var(--muted); }
  li.alert .sev { font-size:11px; text-transform:uppercase; font-weight:600; margin-right:6px; }
  li.alert .where { font-family:"DejaVu Sans Mono", monospace; font-size:12px; color:var(--muted); margin-left:6px; }
  li.alert .summary { font-size:13px; }
  li.alert .since { font-size:12px; color:var(--muted); }
  li.alert.sev-critical { border-left-color:var(--red); } li.alert.sev-critical .sev { color:var(--red); }
  li.alert.sev-error { border-left-color:var(--red); } li.alert.sev-error .sev { color:var(--red); }
  li.alert.sev-warning { border-left-color:var(--yellow); } li.alert.sev-warning .sev { color:var(--yellow); }
  li.alert.sev-info { border-left-color:var(--blue); } li.alert.sev-info .sev { color:var(--blue); }
  .tag { font-size:11px; margin-left:6px; color:var(--muted); }
  .tag.sev-critical, .tag.sev-error { color:var(--red); } .tag.sev-warning { color:var(--yellow); } .tag.sev-info {\
 color:var(--blue); }
</style>
</head>
<body>
<header>
  <h1><span>pod</span>watch</h1>
  <div id="status">connecting…</div>
  <div class="filters">
    <input id="f-ns" type="text" placeholder="namespace" aria-label="namespace filter">
    <input id="f-label" type="text" placeholder="label, e.g. app=web" aria-label="label filter">
    <label class="t"><input type="checkbox" class="f-type" value="created" checked>created</label>
    <label class="t"><input type="checkbox" class="f-type" value="updated" checked>updated</label>
    <label class="t"><input type="checkbox" class="f-type" value="deleted" checked>deleted</label>
    <label class="t"><input type="checkbox" class="f-type" value="alerts" checked>alerts</label>
  </div>
</header>
<main>
  <section><h2>Timeline <span id="ev-count">0</span></h2><ol id="timeline"><li class="empty" id="no-events">No events\
 yet.</li></ol></section>
  <div class="side">
  <section id="alerts-panel"><h2>Alerts <span id="alert-count">0</span></h2><ul class="alerts" id="alerts"><li\
 class="empty">No alerts firing.</li></ul></section>
  <section><h2>Pods <span id="pod-count">0</span></h2>
    <table><thead><tr><th>Pod</th><th>Phase</th><th>Ready</th><th>Node</th></tr></thead><tbody id="pods"></tbody>\
</table>
  </section>
  </div>
</main>
<script>
// Timeline items: { kind: 'pod', e } | { kind: 'alert', e } | { kind: 'snapshot', s }.
const pods = new Map(); const alerts = new Map(); const items = []; const MAX = 500;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;' })[c]);
function filters() {
  const types = new Set([...document.querySelectorAll('.f-type:checked')].map((c) => c.value));
  const [lk, lv] = $('f-label').value.trim().split('=').map((s) => s && s.trim());
  return { ns: $('f-ns').value.trim(), lk, lv, types };
}
function matches(f, ns, labels) {
  if (f.ns && !ns.includes(f.ns)) return false;
  if (f.lk) { const v = (labels || {})[f.lk]; if (v === undefined || (f.lv !== undefined && f.lv !== '' &&\
 v !== f.lv)) return false; }
  return true;
}
// Alerts carry no pod labels: only the namespace filter applies, and an alert without a namespace always shows.
const alertShown = (f, a) => !f.ns || !a.labels.namespace || a.labels.namespace.includes(f.ns);
const where = (a) => [a.labels.namespace, a.labels.pod || a.labels.service || a.labels.job ||\
 a.labels.instance].filter(Boolean).join('/');
function shown(f, it) {
  if (it.kind === 'pod') return f.types.has(it.e.type) && matches(f, it.e.pod.namespace, it.e.labels);
  if (it.kind === 'alert') return f.types.has('alerts') && alertShown(f, it.e.alert);
  return it.s.kind === 'alerts' ? f.types.has('alerts') : !f.ns || !it.s.namespace || it.s.namespace.includes(f.ns);
}
function row(time, type, label, main, detail, fresh) {
  const li = document.createElement('li');
  li.className = 'ev' + (fresh ? ' fresh' : '');
  li.dataset.type = type;
  li.innerHTML = '<span class="time">' + esc(time.slice(11, 19)) + '</span><span class="type ' + esc(type) + '">' +\
 esc(label) + '</span>' +
    '<span class="pod">' + main + '</span>' + (detail ? '<div class="changes">' + detail + '</div>' : '');
  return li;
}
function evItem(it, fresh) {
  if (it.kind === 'snapshot') return row(it.s.time, 'snapshot', 'snapshot', esc(it.s.summary), '', fresh);
  const e = it.e;
  if (it.kind === 'alert') {
    const a = e.alert;
    return row(e.time, e.type, e.type.slice(6), esc(a.name) + (a.severity ? '<span class="tag sev-' + esc(a.severity) +\
 '">' + esc(a.severity) + '</span>' : ''),
      esc(where(a)) + (a.summary ? (where(a) ? ': ' : '') + esc(a.summary) : ''), fresh);
  }
  const ch = (e.changes || []).map((c) => '<b>' + esc(c.field) + '</b> ' + esc(c.from ?? '∅') + ' → ' +\
 esc(c.to ?? '∅')).join('<br>');
  return row(e.time, e.type, e.type, esc(e.pod.namespace + '/' + e.pod.name) +\
 (e.observedOnRelist ? '<span class="relist">observed on relist</span>' : ''),
    ch || 'phase ' + esc(e.phase) + (e.node ? ' · node ' + esc(e.node) : ''), fresh);
}
function renderTimeline() {
  const f = filters(); const ol = $('timeline'); ol.innerHTML = '';
  const list = items.filter((it) => shown(f, it));
  for (const it of list) ol.appendChild(evItem(it, false));
  if (!list.length) ol.innerHTML = '<li class="empty">No events yet.</li>';
  $('ev-count').textContent = list.length;
}
function addItem(it) {
  items.unshift(it); if (items.length > MAX) items.pop();
  if (!shown(filters(), it)) return;
  const ol = $('timeline'); const empty = ol.querySelector('.empty'); if (empty) empty.remove();
  ol.insertBefore(evItem(it, true), ol.firstChild);
  while (ol.children.length > MAX) ol.lastChild.remove();
  $('ev-count').textContent = ol.querySelectorAll('li.ev').length;
}
function renderPods() {
  const f = filters(); const rows = [];
  for (const p of [...pods.values()].sort((a, b) => (a.namespace + a.name).localeCompare(b.namespace + b.name))) {
    if (!matches(f, p.namespace, p.labels)) continue;
    rows.push('<tr><td class="name">' + esc(p.namespace + '/' + p.name) + '</td><td><span class="phase ' +\
 esc(p.phase) + '">' + esc(p.phase) + '</span></td><td>' + (p.ready ? '✔' : '–') + '</td><td>' + esc(p.node || '') +\
 '</td></tr>');
  }
  $('pods').innerHTML = rows.join('') || '<tr><td colspan="4" class="empty">No pods.</td></tr>';
  $('pod-count').textContent = rows.length;
}
function age(since) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  return s < 120 ? s + 's' : s < 7200 ? Math.round(s / 60) + 'm' : s < 172800 ? Math.round(s / 3600) +\
 'h' : Math.round(s / 86400) + 'd';
}
const RANK = { critical: 0, error: 1, warning: 2, info: 3 };
function renderAlerts() {
  const f = filters();
  const list = [...alerts.values()].filter((a) => alertShown(f, a))
    .sort((a, b) => (RANK[a.severity] ?? 4) - (RANK[b.severity] ?? 4) || a.startsAt.localeCompare(b.startsAt));
  $('alerts').innerHTML = list.map((a) => '<li class="alert sev-' + esc(a.severity || 'none') +\
 '" data-fingerprint="' + esc(a.fingerprint) + '">' +
    '<span class="sev">' + esc(a.severity || 'alert') + '</span><b class="name">' + esc(a.name) +\
 '</b><span class="where">' + esc(where(a)) + '</span>' +
    (a.summary ? '<div class="summary">' + esc(a.summary) + '</div>' : '') +
    '<div class="since" title="' + esc(a.startsAt) + '">since ' + esc(new Date(a.startsAt).toISOString().slice(11,\
 19)) + ' (' + age(a.startsAt) + ')</div></li>').join('') ||
    '<li class="empty">No alerts firing.</li>';
  $('alert-count').textContent = list.length;
}
function onPod(e) {
  const key = e.pod.namespace + '/' + e.pod.name;
  if (e.type === 'deleted') pods.delete(key); else pods.set(key, { namespace: e.pod.namespace, name: e.pod.name,\
 phase: e.phase, ready: e.ready, node: e.node, labels: e.labels });
  // A pod that was there at start is in the table, not news for the timeline.
  if (e.type !== 'existing') addItem({ kind: 'pod', e });
  renderPods();
}
function onAlert(e) {
  if (e.type === 'alert-resolved') alerts.delete(e.alert.fingerprint); else alerts.set(e.alert.fingerprint, e.alert);
  if (e.type !== 'alert-existing') addItem({ kind: 'alert', e });
  renderAlerts();
}
// Merged into what the stream already said, never replacing it: a live event may overtake the answer.
function loadPods() { fetch('api/pods').then((r) => r.json()).then((list) => {\
 for (const p of list) pods.set(p.namespace + '/' + p.name, p); renderPods(); }); }
function loadAlerts() { fetch('api/alerts').then((r) => r.json()).then((list) => {\
 for (const a of list) alerts.set(a.fingerprint, a); renderAlerts(); }); }
function onSnapshot(s) {
  addItem({ kind: 'snapshot', s });
  if (s.kind === 'pods') loadPods(); else loadAlerts();
}
for (const el of document.querySelectorAll('input')) el.addEventListener('input', () => { renderTimeline();\
 renderPods(); renderAlerts(); });
loadPods(); loadAlerts();
setInterval(renderAlerts, 15000);
const source = new EventSource('events?kinds=pod,alert,snapshot');
source.addEventListener('pod', (m) => onPod(JSON.parse(m.data)));
source.addEventListener('alert', (m) => onAlert(JSON.parse(m.data)));
source.addEventListener('snapshot', (m) => onSnapshot(JSON.parse(m.data)));
source.onopen = () => { $('status').textContent = 'live'; $('status').className = 'live'; };
source.onerror = () => { $('status').textContent = 'reconnecting…'; $('status').className = 'down'; };
</script>
</body>
</html>
`;
