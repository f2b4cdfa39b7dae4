// The live web view: one self-contained page (no external assets, so it works air-gapped) that shows a
// timeline of events and the current pods, filtered by namespace, label and type, updated over SSE.

export const WEB_VIEW_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>podwatch</title>
<style>
  :root { --bg:#0f1419; --panel:#161d24; --line:#243040; --text:#d7dee6; --muted:#7d8b99; --green:#3fb950; --yellow:#d29922; --red:#f85149; --blue:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 "DejaVu Sans", system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); background:var(--panel); position:sticky; top:0; z-index:1; }
  header h1 { font-size:17px; margin:0; letter-spacing:.3px; }
  header h1 span { color:var(--blue); }
  #status { font-size:12px; color:var(--muted); }
  #status.live::before { content:"●"; color:var(--green); margin-right:5px; }
  #status.down::before { content:"●"; color:var(--red); margin-right:5px; }
  .filters { display:flex; gap:10px; margin-left:auto; flex-wrap:wrap; align-items:center; }
  input[type=text] { background:var(--bg); border:1px solid var(--line); color:var(--text); padding:6px 9px; border-radius:6px; width:170px; font:inherit; }
  label.t { font-size:12px; color:var(--muted); display:flex; gap:4px; align-items:center; }
  main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
  section h2 { margin:0; padding:10px 14px; font-size:13px; text-transform:uppercase; letter-spacing:.8px; color:var(--muted); border-bottom:1px solid var(--line); display:flex; justify-content:space-between; }
  ol { list-style:none; margin:0; padding:0; max-height:calc(100vh - 140px); overflow:auto; }
  li.ev { padding:8px 14px; border-bottom:1px solid var(--line); display:grid; grid-template-columns:88px 70px 1fr; gap:8px; }
  li.ev.fresh { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background:#1f3a5a; } to { background:transparent; } }
  .time { color:var(--muted); font-family:"DejaVu Sans Mono", monospace; font-size:12px; }
  .type { font-weight:600; font-size:12px; text-transform:uppercase; }
  .created { color:var(--green); } .updated { color:var(--yellow); } .deleted { color:var(--red); }
  .pod { font-family:"DejaVu Sans Mono", monospace; }
  .changes { grid-column:3; font-size:12px; color:var(--muted); font-family:"DejaVu Sans Mono", monospace; word-break:break-all; }
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
  </div>
</header>
<main>
  <section><h2>Timeline <span id="ev-count">0</span></h2><ol id="timeline"><li class="empty" id="no-events">No events yet.</li></ol></section>
  <section><h2>Pods <span id="pod-count">0</span></h2>
    <table><thead><tr><th>Pod</th><th>Phase</th><th>Ready</th><th>Node</th></tr></thead><tbody id="pods"></tbody></table>
  </section>
</main>
<script>
const pods = new Map(); const events = []; const MAX = 500;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;' })[c]);
function filters() {
  const types = new Set([...document.querySelectorAll('.f-type:checked')].map((c) => c.value));
  const [lk, lv] = $('f-label').value.trim().split('=').map((s) => s && s.trim());
  return { ns: $('f-ns').value.trim(), lk, lv, types };
}
function matches(f, ns, labels) {
  if (f.ns && !ns.includes(f.ns)) return false;
  if (f.lk) { const v = (labels || {})[f.lk]; if (v === undefined || (f.lv !== undefined && f.lv !== '' && v !== f.lv)) return false; }
  return true;
}
function evItem(e, fresh) {
  const li = document.createElement('li');
  li.className = 'ev' + (fresh ? ' fresh' : '');
  li.dataset.type = e.type;
  const ch = (e.changes || []).map((c) => '<b>' + esc(c.field) + '</b> ' + esc(c.from ?? '∅') + ' → ' + esc(c.to ?? '∅')).join('<br>');
  li.innerHTML = '<span class="time">' + esc(e.time.slice(11, 19)) + '</span><span class="type ' + e.type + '">' + e.type + '</span>' +
    '<span class="pod">' + esc(e.pod.namespace + '/' + e.pod.name) + (e.observedOnRelist ? '<span class="relist">observed on relist</span>' : '') + '</span>' +
    (ch ? '<div class="changes">' + ch + '</div>' : '<div class="changes">phase ' + esc(e.phase) + (e.node ? ' · node ' + esc(e.node) : '') + '</div>');
  return li;
}
function renderTimeline() {
  const f = filters(); const ol = $('timeline'); ol.innerHTML = '';
  const shown = events.filter((e) => f.types.has(e.type) && matches(f, e.pod.namespace, e.labels));
  for (const e of shown) ol.appendChild(evItem(e, false));
  if (!shown.length) ol.innerHTML = '<li class="empty">No events yet.</li>';
  $('ev-count').textContent = shown.length;
}
function renderPods() {
  const f = filters(); const rows = [];
  for (const p of [...pods.values()].sort((a, b) => (a.namespace + a.name).localeCompare(b.namespace + b.name))) {
    if (!matches(f, p.namespace, p.labels)) continue;
    rows.push('<tr><td class="name">' + esc(p.namespace + '/' + p.name) + '</td><td><span class="phase ' + esc(p.phase) + '">' + esc(p.phase) + '</span></td><td>' + (p.ready ? '✔' : '–') + '</td><td>' + esc(p.node || '') + '</td></tr>');
  }
  $('pods').innerHTML = rows.join('') || '<tr><td colspan="4" class="empty">No pods.</td></tr>';
  $('pod-count').textContent = rows.length;
}
function onEvent(e) {
  events.unshift(e); if (events.length > MAX) events.pop();
  const key = e.pod.namespace + '/' + e.pod.name;
  if (e.type === 'deleted') pods.delete(key); else pods.set(key, { namespace: e.pod.namespace, name: e.pod.name, phase: e.phase, ready: e.ready, node: e.node, labels: e.labels });
  const f = filters();
  if (f.types.has(e.type) && matches(f, e.pod.namespace, e.labels)) {
    const ol = $('timeline'); const empty = ol.querySelector('.empty'); if (empty) empty.remove();
    ol.insertBefore(evItem(e, true), ol.firstChild);
    while (ol.children.length > MAX) ol.lastChild.remove();
    $('ev-count').textContent = ol.querySelectorAll('li.ev').length;
  }
  renderPods();
}
for (const el of document.querySelectorAll('input')) el.addEventListener('input', () => { renderTimeline(); renderPods(); });
fetch('api/pods').then((r) => r.json()).then((list) => { for (const p of list) pods.set(p.namespace + '/' + p.name, p); renderPods(); });
const source = new EventSource('events');
source.addEventListener('pod', (m) => onEvent(JSON.parse(m.data)));
source.onopen = () => { $('status').textContent = 'live'; $('status').className = 'live'; };
source.onerror = () => { $('status').textContent = 'reconnecting…'; $('status').className = 'down'; };
</script>
</body>
</html>
`;
