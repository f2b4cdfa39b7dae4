// Fills the "Live data" section from /api/info (the webinfo companion in the same pod).
'use strict';
(function () {
  const status = document.getElementById('live-status');
  const facts = document.getElementById('live-facts');

  function show(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function fill(rows) {
    facts.replaceChildren();
    for (const [name, value] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      const code = document.createElement('code');
      code.textContent = typeof value === 'string' ? value : JSON.stringify(value);
      dd.append(code);
      facts.append(dt, dd);
    }
    facts.hidden = rows.length === 0;
  }

  async function load() {
    show('loading', 'Asking /api/info…');
    try {
      const res = await fetch('/api/info', { cache: 'no-store', headers: { accept: 'application/json' } });
      const info = await res.json();
      if (!res.ok) throw new Error(info.error || `HTTP ${res.status}`);
      const db = info.data || {};
      const rows = [['answered by', info.pod && info.pod.name ? info.pod.name : 'unknown'], ['at', info.time]];
      if (typeof info.region === 'string') rows.push(['region', info.region]);
      if (db.configured && db.ok) {
        show('ok', db.message);
        for (const [k, v] of Object.entries(db.values || {})) rows.push([k, v]);
      } else {
        show(db.configured ? 'error' : 'unconfigured', db.message || 'No data source answered.');
      }
      fill(rows);
    } catch (err) {
      show('error', `The live data is not available: ${err.message}`);
      fill([]);
    }
  }

  document.getElementById('refresh').addEventListener('click', load);
  load();
})();
