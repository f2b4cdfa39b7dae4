// The health page: one self-contained page (no external assets, so it works air-gapped; podwatch's web view
// is its sibling) titled "kstack health". It polls `api/health` (relative, so it also works behind a path
// prefix; /api/health when served at /) every 2 s and renders the HealthModel of health.ts per namespace.
//
// The rendering functions below are plain functions over the model: they run in Node for the unit tests and
// are copied into the page's <script> with Function.prototype.toString, so the page runs the same code the
// tests check. They must stay self-contained: no imports at run time, no module constants, only each other.
// (A coverage tool that instruments them would break the page; none is used.)
//
// Stable hooks for browser tests:
//   #status                 connection state; data-state="connecting" | "live" | "down"
//   #updated                "updated HH:MM:SS" of the last model (its generatedAt in data-generated-at)
//   #overall                the worst status of all namespaces; data-status=ok|warn|critical|unknown
//   #health                 everything below, replaced at each poll
//   #no-data                present while there is nothing to show; its text starts with "no data yet"
//   #problems li[data-problem="prometheus"|"alertmanager"|"rule"]  sources that failed, rules that fail
//   section[data-namespace="<ns>"][data-status]  one release namespace
//   [data-card="<card>"][data-status]            a card: galera, write-rate, web, podwatch, backup, targets,
//                                                alerts; data-status is the worst of its figures
//   [data-figure="<figure>"][data-status]        one figure, inside its card; textContent is what a reader
//       sees: the number for counts and rates (galera-size, galera-synced, web-replicas, podwatch, targets,
//       alerts, write-rate), a humanised duration (backup-age, binlog-lag: "3 h 12 min"), a word
//       (galera-primary: "Primary" | "no Primary"; backup-verify-failed: "failed" | "passed"), or "—" with
//       no data. data-value holds the raw value ("" with no data, "true"/"false" for flags, seconds for
//       durations, transactions/s for write-rate) and data-of the total of x/y figures (galera-size: the
//       expected members; galera-synced, galera-primary: members reporting; web-replicas, podwatch, targets).
//   [data-note="<figure>"]                       why the figure has its status, in a few words
//   table[data-alerts="<ns>"] tr[data-alert="<alertname>"][data-severity][data-state][data-since]
//       a row per alert, firing first; cells td[data-col="name"|"severity"|"summary"|"since"];
//       tr.empty "no alerts firing" when there is none. Alerts of no release namespace:
//       table[data-alerts=""] in section#other-alerts (with a td[data-col="namespace"]).
//   tr[data-down-target="<pod>"]                 a scrape target of the namespace that is not up
import type { AlertRow, Figure, HealthModel, NamespaceHealth, Status } from './health.js';

/** How often the page asks for /api/health. */
export const POLL_MS = 2000;

/** Text for element content and attribute values. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** Seconds as a reader says them: "45 s", "12 min", "3 h 12 min", "2 d 4 h". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A rate with the precision worth reading: 0.25, 12.5, 1250. */
export function formatRate(perSecond: number): string {
  return String(perSecond >= 100 ? Math.round(perSecond) : Math.round(perSecond * 100) / 100);
}

/** What a figure's element shows (see the header: numbers, durations, words, or "—"). */
export function figureText(id: string, figure: Figure<number | boolean>): string {
  const v = figure.value;
  if (v === null) return '—';
  if (typeof v === 'boolean') {
    if (id === 'galera-primary') return v ? 'Primary' : 'no Primary';
    return v ? 'failed' : 'passed';
  }
  if (id === 'backup-age' || id === 'binlog-lag') return humanDuration(v);
  if (id === 'write-rate') return formatRate(v);
  return String(v);
}

/** One figure's element: its text, and the raw value, total and status as data attributes. */
export function figureHtml(id: string, figure: Figure<number | boolean>, cls: string): string {
  const value = figure.value === null ? '' : String(figure.value);
  const of = figure.of === undefined ? '' : ` data-of="${String(figure.of)}"`;
  const text = figureText(id, figure);
  // Durations ("3 h 12 min") get a smaller face so they fit a card like a number does.
  const long = text.length > 5 ? ' long' : '';
  return (
    `<span class="${cls}${long} st-${figure.status}" data-figure="${id}" data-status="${figure.status}"` +
    ` data-value="${esc(value)}"${of}>${esc(text)}</span>`
  );
}

/** "/3" after an x/y count that has both numbers (not after a flag such as galera-primary). */
export function ofHtml(figure: Figure<number | boolean>): string {
  return typeof figure.value === 'number' && figure.of !== undefined
    ? `<span class="of">/${String(figure.of)}</span>`
    : '';
}

export function noteHtml(id: string, figure: Figure<number | boolean>): string {
  return `<div class="note" data-note="${id}">${esc(figure.note)}</div>`;
}

/** The worst status of a card's figures; unknown counts only when all are unknown. */
export function cardStatus(statuses: readonly Status[]): Status {
  const order = ['unknown', 'ok', 'warn', 'critical'];
  return statuses.reduce<Status>((w, s) => (order.indexOf(s) > order.indexOf(w) ? s : w), 'unknown');
}

/** A card: a title, a big figure with its unit, small figures under it, and the big figure's note. */
export function cardHtml(
  card: string,
  title: string,
  big: { id: string; figure: Figure<number | boolean>; unit?: string },
  small: readonly { id: string; figure: Figure<number | boolean>; label: string }[],
): string {
  const status = cardStatus([big.figure.status, ...small.map((s) => s.figure.status)]);
  const unit = big.unit !== undefined && big.figure.value !== null ? `<span class="unit">${esc(big.unit)}</span>` : '';
  const smalls = small
    .map((s) => `<div class="small">${figureHtml(s.id, s.figure, 'sv')}${ofHtml(s.figure)} ${esc(s.label)}</div>`)
    .join('');
  const notes = small
    .filter((s) => s.figure.status !== 'ok')
    .map((s) => noteHtml(s.id, s.figure))
    .join('');
  return (
    `<div class="card st-${status}" data-card="${card}" data-status="${status}">` +
    `<div class="title">${esc(title)}</div>` +
    `<div class="big">${figureHtml(big.id, big.figure, 'bv')}${ofHtml(big.figure)}${unit}</div>` +
    smalls +
    noteHtml(big.id, big.figure) +
    notes +
    `</div>`
  );
}

/** "5 min ago" from an ISO time, against the model's own time so the page needs no clock of its own. */
export function agoText(since: string, now: string): string {
  const seconds = (Date.parse(now) - Date.parse(since)) / 1000;
  return Number.isFinite(seconds) ? `${humanDuration(seconds)} ago` : since;
}

/** The alerts of one namespace ("" for those of none, with a namespace column). */
export function alertsTableHtml(ns: string, alerts: readonly AlertRow[], now: string, withNamespace: boolean): string {
  const head =
    `<tr>${withNamespace ? '<th>Namespace</th>' : ''}` +
    '<th>Alert</th><th>Severity</th><th>Summary</th><th>Since</th></tr>';
  const rows = alerts.map(
    (a) =>
      `<tr data-alert="${esc(a.name)}" data-severity="${esc(a.severity)}" data-state="${a.state}"` +
      ` data-since="${esc(a.since)}" class="${a.state === 'active' ? 'firing' : 'suppressed'}">` +
      (withNamespace ? `<td data-col="namespace">${esc(a.namespace ?? '—')}</td>` : '') +
      `<td data-col="name" class="mono">${esc(a.name)}` +
      `${a.state === 'active' ? '' : ` <span class="tag">${a.state}</span>`}</td>` +
      `<td data-col="severity"><span class="sev ` +
      `sev-${esc(a.severity || 'none')}">${esc(a.severity || '—')}</span></td>` +
      `<td data-col="summary">${esc(a.summary)}</td>` +
      `<td data-col="since" title="${esc(a.since)}">${esc(agoText(a.since, now))}</td></tr>`,
  );
  const empty = `<tr class="empty"><td colspan="${withNamespace ? 5 : 4}">no alerts firing</td></tr>`;
  return `<table data-alerts="${esc(ns)}"><thead>${head}</thead><tbody>${rows.join('') || empty}</tbody></table>`;
}

export function downTargetsHtml(ns: NamespaceHealth): string {
  if (ns.downTargets.length === 0) return '';
  const rows = ns.downTargets
    .map(
      (t) =>
        `<tr data-down-target="${esc(t.pod)}"><td class="mono">${esc(t.pod || t.scrapeUrl)}</td>` +
        `<td class="mono">${esc(t.job)}</td><td>${esc(t.health)}</td><td>${esc(t.lastError || '—')}</td></tr>`,
    )
    .join('');
  return (
    '<h3>Targets not up</h3><table class="down"><thead><tr><th>Pod</th><th>Job</th><th>Health</th><th>Last error</th>' +
    `</tr></thead><tbody>${rows}</tbody></table>`
  );
}

export function namespaceHtml(ns: NamespaceHealth, now: string): string {
  const f = ns.figures;
  const cards = [
    cardHtml('galera', 'Galera cluster', { id: 'galera-size', figure: f.galeraSize, unit: 'members' }, [
      { id: 'galera-primary', figure: f.galeraPrimary, label: '' },
      { id: 'galera-synced', figure: f.galeraSynced, label: 'Synced' },
    ]),
    cardHtml('write-rate', 'Writes', { id: 'write-rate', figure: f.writeRate, unit: 'tx/s' }, []),
    cardHtml('web', 'Web replicas', { id: 'web-replicas', figure: f.webReplicas, unit: 'answering' }, []),
    cardHtml('podwatch', 'podwatch', { id: 'podwatch', figure: f.podwatch, unit: 'answering' }, []),
    cardHtml('backup', 'Newest backup', { id: 'backup-age', figure: f.backupAge, unit: 'ago' }, [
      { id: 'backup-verify-failed', figure: f.backupVerifyFailed, label: 'last verification' },
      { id: 'binlog-lag', figure: f.binlogLag, label: 'binlog lag' },
    ]),
    cardHtml('targets', 'Targets up', { id: 'targets', figure: f.targets }, []),
    cardHtml('alerts', 'Alerts firing', { id: 'alerts', figure: f.alerts }, []),
  ];
  return (
    `<section class="ns" data-namespace="${esc(ns.namespace)}" data-status="${ns.status}">` +
    `<h2><span class="dot st-${ns.status}"></span>${esc(ns.namespace)}<span class="muted">${ns.status}</span></h2>` +
    `<div class="cards">${cards.join('')}</div>` +
    `<h3>Alerts</h3>${alertsTableHtml(ns.namespace, ns.alerts, now, false)}` +
    downTargetsHtml(ns) +
    '</section>'
  );
}

/** Sources that failed and rules that do not evaluate, above everything else. */
export function problemsHtml(model: HealthModel): string {
  const items: string[] = [];
  const { prometheus, alertmanager } = model.sources;
  if (!prometheus.ok)
    items.push(`<li data-problem="prometheus">Prometheus ${esc(prometheus.url)}: ${esc(prometheus.error ?? '')}</li>`);
  if (!alertmanager.ok)
    items.push(
      `<li data-problem="alertmanager">Alertmanager ${esc(alertmanager.url)}: ${esc(alertmanager.error ?? '')}</li>`,
    );
  for (const r of model.ruleErrors)
    items.push(`<li data-problem="rule">rule ${esc(r.group)}/${esc(r.rule)} fails: ${esc(r.lastError)}</li>`);
  return items.length ? `<ul id="problems">${items.join('')}</ul>` : '';
}

/** Everything under the header for one model. */
export function renderHealthBody(model: HealthModel): string {
  const body = model.namespaces.length
    ? model.namespaces.map((ns) => namespaceHtml(ns, model.generatedAt)).join('')
    : '<p class="empty" id="no-data">no data yet: Prometheus has no series of a webstack release</p>';
  const other = model.otherAlerts.length
    ? '<section class="ns" id="other-alerts"><h2>Other alerts</h2>' +
      alertsTableHtml('', model.otherAlerts, model.generatedAt, true) +
      '</section>'
    : '';
  return problemsHtml(model) + body + other;
}

/** The functions the page's script needs, in its text. */
const PAGE_FUNCTIONS = [
  esc,
  humanDuration,
  formatRate,
  figureText,
  figureHtml,
  ofHtml,
  noteHtml,
  cardStatus,
  cardHtml,
  agoText,
  alertsTableHtml,
  downTargetsHtml,
  namespaceHtml,
  problemsHtml,
  renderHealthBody,
]
  .map((fn) => fn.toString())
  .join('\n');

export const HEALTH_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kstack health</title>
<style>
  :root { --bg:#0f1419; --panel:#161d24; --line:#243040; --text:#d7dee6; --muted:#7d8b99; --green:#3fb950;\
 --yellow:#d29922; --red:#f85149; --blue:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 "DejaVu Sans", system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line);\
 background:var(--panel); position:sticky; top:0; z-index:1; }
  header h1 { font-size:17px; margin:0; letter-spacing:.3px; }
  header h1 span { color:var(--blue); }
  #status, #updated { font-size:12px; color:var(--muted); }
  #status[data-state=live]::before { content:"●"; color:var(--green); margin-right:5px; }
  #status[data-state=down]::before { content:"●"; color:var(--red); margin-right:5px; }
  #overall { margin-left:auto; padding:2px 10px; border-radius:10px; font-size:12px; text-transform:uppercase;\
 letter-spacing:.6px; background:#22303d; }
  #overall[data-status=ok] { background:#1b3a26; color:var(--green); } #overall[data-status=warn] { background:#3a3020;\
 color:var(--yellow); }
  #overall[data-status=critical] { background:#3d1f22; color:var(--red); } #overall[data-status=unknown] {\
 color:var(--muted); }
  main { padding:16px 20px; display:flex; flex-direction:column; gap:16px; }
  #problems { margin:0; padding:10px 14px 10px 32px; background:#3d1f22; border:1px solid #6b2b30; border-radius:8px;\
 color:#ffb4ae; word-break:break-word; }
  section.ns { background:var(--panel); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
  section.ns h2 { margin:0; padding:10px 14px; font-size:15px; border-bottom:1px solid var(--line); display:flex;\
 align-items:center; gap:8px; }
  section.ns h2 .muted { color:var(--muted); font-size:11px; font-weight:normal; text-transform:uppercase;\
 letter-spacing:.8px; margin-left:auto; }
  h3 { margin:0; padding:10px 14px 4px; font-size:12px; text-transform:uppercase; letter-spacing:.8px;\
 color:var(--muted); font-weight:normal; }
  .dot { width:10px; height:10px; border-radius:50%; background:var(--muted); display:inline-block; }
  .dot.st-ok { background:var(--green); } .dot.st-warn { background:var(--yellow); } .dot.st-critical {\
 background:var(--red); }
  .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:12px; padding:14px; }
  .card { background:var(--bg); border:1px solid var(--line); border-left:4px solid var(--muted); border-radius:6px;\
 padding:10px 12px; }
  .card.st-ok { border-left-color:var(--green); } .card.st-warn { border-left-color:var(--yellow); }\
 .card.st-critical { border-left-color:var(--red); }
  .card.st-critical { background:#1d1416; }
  .title { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.6px; }
  .big { margin:4px 0 2px; }
  .bv { font-size:30px; font-weight:600; font-variant-numeric:tabular-nums; }
  .bv.long { font-size:22px; }
  .of { font-size:20px; color:var(--muted); }
  .unit { font-size:12px; color:var(--muted); margin-left:6px; }
  .small { font-size:13px; }
  .sv { font-weight:600; }
  .st-ok.bv, .st-ok.sv { color:var(--green); } .st-warn.bv, .st-warn.sv { color:var(--yellow); } .st-critical.bv,\
 .st-critical.sv { color:var(--red); } .st-unknown.bv, .st-unknown.sv { color:var(--muted); }
  .note { font-size:12px; color:var(--muted); margin-top:4px; word-break:break-word; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:7px 14px; border-bottom:1px solid var(--line); font-size:13px; vertical-align:top; }
  th { color:var(--muted); font-weight:normal; font-size:12px; }
  tr.suppressed { color:var(--muted); }
  .mono { font-family:"DejaVu Sans Mono", monospace; }
  .tag { font-size:11px; color:var(--blue); margin-left:6px; }
  .sev { padding:1px 8px; border-radius:10px; font-size:12px; background:#22303d; }
  .sev-critical { background:#3d1f22; color:var(--red); } .sev-warning { background:#3a3020; color:var(--yellow); }
  .empty { padding:18px 14px; color:var(--muted); margin:0; }
</style>
</head>
<body>
<header>
  <h1><span>kstack</span> health</h1>
  <div id="status" data-state="connecting">connecting…</div>
  <div id="updated"></div>
  <div id="overall" data-status="unknown">unknown</div>
</header>
<main id="health"><p class="empty" id="no-data">no data yet</p></main>
<script>
${PAGE_FUNCTIONS}
const $ = (id) => document.getElementById(id);
function setStatus(state, text) { $('status').dataset.state = state; $('status').textContent = text; }
async function poll() {
  try {
    const res = await fetch('api/health', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const model = await res.json();
    $('health').innerHTML = renderHealthBody(model);
    $('overall').dataset.status = model.status;
    $('overall').textContent = model.status;
    $('updated').dataset.generatedAt = model.generatedAt;
    $('updated').textContent = 'updated ' + new Date(model.generatedAt).toLocaleTimeString([], { hour12: false });
    setStatus('live', 'live');
  } catch (err) {
    // Keep the last figures on screen: a missed poll is not news about the stack.
    setStatus('down', 'cannot read api/health (' + (err && err.message ? err.message : err) + ')');
  }
  // One request at a time: the next poll starts after this one ends, however long Prometheus took.
  setTimeout(poll, ${POLL_MS});
}
poll();
</script>
</body>
</html>
`;
