'use strict';
(() => {
  const csrfToken = () => { const meta = document.querySelector('meta[name="csrf-token"]'); return meta ? meta.content : ''; };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const enc = encodeURIComponent;

  /** A call to the console's JSON endpoints, with the session's CSRF token. */
  async function call(method, url, body) {
    const init = { method, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken(), 'Accept': 'application/json' } };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    const response = await fetch(url, init);
    let json = null;
    try { json = await response.json(); } catch (_) { json = null; }
    if (response.status === 401) { window.location.assign('/login?next=' + enc(window.location.pathname)); }
    if (!response.ok) {
      const detail = json && json.errors && json.errors[0] && json.errors[0].detail;
      const error = new Error(detail || (response.status + ' ' + response.statusText));
      error.status = response.status;
      throw error;
    }
    return json;
  }

  // Forms that delete something ask first; forms that create something once submit once.
  document.addEventListener('submit', (event) => {
    const form = event.target;
    const message = form.dataset ? form.dataset.confirm : undefined;
    if (message && !window.confirm(message)) { event.preventDefault(); return; }
    if (form.dataset && form.dataset.submitOnce !== undefined) {
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = 'true';
    }
  });

  // Lists with something in progress reload themselves.
  if (document.body.dataset.refresh) { setTimeout(() => window.location.reload(), Number(document.body.dataset.refresh)); }

  // The wizard: parts shown only for a choice (data-show-when="name=value"), regions of the chosen cloud only.
  function updateWizard() {
    document.querySelectorAll('[data-show-when]').forEach((part) => {
      const [name, value] = part.dataset.showWhen.split('=');
      const chosen = document.querySelector('input[name="' + name + '"]:checked');
      part.hidden = !chosen || chosen.value !== value;
    });
    document.querySelectorAll('select[data-filter-by]').forEach((select) => {
      const chosen = document.querySelector('input[name="' + select.dataset.filterBy + '"]:checked');
      const cloud = chosen ? chosen.value : '';
      let firstVisible = null;
      for (const option of select.options) {
        option.hidden = option.disabled = option.dataset.cloud !== cloud;
        if (!option.hidden && !firstVisible) { firstVisible = option; }
      }
      if (select.selectedOptions.length === 0 || select.selectedOptions[0].hidden) { if (firstVisible) { firstVisible.selected = true; } }
    });
  }
  document.addEventListener('change', (event) => { if (event.target.type === 'radio') { updateWizard(); } });
  updateWizard();

  // The API-key file: built from the page when the page loads, offered as a blob: URL (a data: URL would keep
  // the secret in the browser's download history).
  document.querySelectorAll('a[data-file-from]').forEach((link) => {
    const source = document.getElementById(link.dataset.fileFrom);
    if (source) { link.href = URL.createObjectURL(new Blob([source.textContent], { type: 'text/plain;charset=utf-8' })); }
  });

  /**
   * A statement's results as a table: the changelog applied row by row, in constant time per change. Rows
   * live in slots in arrival order; a retraction empties its row's slot, and an update's new row (+U right
   * after its -U) takes the emptied slot, so it keeps its place. An index maps each row's key (its upsert
   * columns, or the whole row) to its live slots. Slots are compacted when most are empty.
   */
  class LiveTable {
    constructor(table) { this.table = table; this.reset(); }
    reset() {
      this.keys = null; this.slots = []; this.index = new Map(); this.live = 0; this.pending = null;
      this.setColumns([], null); this.render();
    }
    get count() { return this.live; }
    setColumns(columns, upsertColumns) {
      this.keys = Array.isArray(upsertColumns) && upsertColumns.length > 0 ? upsertColumns : null;
      const head = this.table.tHead || this.table.createTHead();
      head.replaceChildren();
      if (columns.length === 0) { return; }
      const row = head.insertRow();
      for (const column of columns) {
        const cell = document.createElement('th');
        cell.textContent = column.name;
        cell.title = column.type;
        row.appendChild(cell);
      }
    }
    keyOf(values) { return JSON.stringify(this.keys ? this.keys.map((index) => values[index]) : values); }
    apply(changes) {
      for (const change of changes) {
        const values = change.row || [];
        const key = this.keyOf(values);
        const slots = this.index.get(key);
        if (change.op === 1 || change.op === 3) { // -U, -D
          const slot = slots ? slots.pop() : undefined;
          if (slots && slots.length === 0) { this.index.delete(key); }
          if (slot) { slot.values = null; this.live -= 1; }
          this.pending = change.op === 1 && slot ? slot : null;
          continue;
        }
        if (this.keys && slots && slots.length > 0) { // +I/+U of a key that is there: replace it
          slots[0].values = values;
        } else {
          let slot = this.pending;
          if (slot && slot.values === null) { slot.values = values; } else { slot = { values }; this.slots.push(slot); }
          if (slots) { slots.push(slot); } else { this.index.set(key, [slot]); }
          this.live += 1;
        }
        this.pending = null;
      }
      if (this.pending === null && this.slots.length > 64 && this.live * 2 < this.slots.length) {
        this.slots = this.slots.filter((slot) => slot.values !== null);
      }
    }
    render(limit = 1000) {
      const body = this.table.tBodies[0] || this.table.createTBody();
      const fragment = document.createDocumentFragment();
      let shown = 0;
      for (const slot of this.slots) {
        if (slot.values === null) { continue; }
        if (shown++ === limit) { break; }
        const line = document.createElement('tr');
        for (const value of slot.values) {
          const cell = document.createElement('td');
          if (value === null) { cell.textContent = 'NULL'; cell.className = 'null'; }
          else { cell.textContent = typeof value === 'string' ? value : JSON.stringify(value); }
          line.appendChild(cell);
        }
        fragment.appendChild(line);
      }
      body.replaceChildren(fragment);
    }
  }

  const terminal = new Set(['COMPLETED', 'FAILED', 'STOPPED', 'DELETING']);

  /**
   * Follows a statement: its phase, and its results page by page until they end. A statement without results
   * (INSERT, DDL) is polled for its phase only, less and less often, until it ends. `stop()` lets it go: a
   * follower let go reports nothing more.
   */
  class Follower {
    constructor(environment, name, table, report) {
      this.base = '/console/api/environments/' + enc(environment) + '/statements/' + enc(name);
      this.table = table; this.report = report; this.active = true; this.summary = null;
    }
    stop() { this.active = false; }
    tell(summary, error, rows) { if (this.active) { this.report(summary, error, rows); } }
    async run() {
      let token = null; let started = false; let pause = 400; let failed = false;
      while (this.active) {
        try {
          if (!started) {
            const summary = await call('GET', this.base);
            if (!this.active) { return; }
            this.summary = summary;
            this.tell(summary, null);
            if (terminal.has(summary.phase) && summary.columns.length === 0) { break; }
            if (summary.columns.length > 0 && summary.phase !== 'PENDING') {
              this.table.setColumns(summary.columns, summary.upsert_columns); started = true;
            } else {
              // Waiting to start, or running without results (INSERT): the latter backs off up to 5 s.
              await sleep(pause); pause = summary.phase === 'PENDING' ? 400 : Math.min(pause * 2, 5000); continue;
            }
          }
          // One request per page: the results come with the statement's phase (read before them).
          const page = await call('GET', this.base + '/results' + (token ? '?page_token=' + enc(token) : ''));
          if (!this.active) { return; }
          const changes = page.data || [];
          this.summary = page.statement;
          this.table.apply(changes);
          this.table.render();
          this.tell(this.summary, null, this.table.count);
          token = page.next_page_token;
          if (!token || (terminal.has(this.summary.phase) && changes.length === 0)) { break; }
          // The server waits up to a second for changes; pace small pages so a busy query does not spin.
          if (changes.length < 1000) { await sleep(500); }
        } catch (error) {
          this.tell(this.summary, error);
          if (error.status && error.status < 500 && error.status !== 429) { failed = true; break; }
          await sleep(1000);
        }
      }
      if (!this.active || failed) { this.active = false; return; }
      // The last page may end the results after the phase it came with was read: read the phase once more.
      try {
        const summary = await call('GET', this.base);
        if (this.active) { this.summary = summary; this.tell(summary, null, started ? this.table.count : undefined); }
      } catch (_) { /* the last report stands */ }
      this.active = false;
    }
  }

  // The statement page follows its statement's results.
  document.querySelectorAll('table[data-live-results]').forEach((element) => {
    const status = document.getElementById(element.dataset.status);
    const follower = new Follower(element.dataset.environment, element.dataset.statement, new LiveTable(element), (summary, error, rows) => {
      if (!status) { return; }
      if (error) { status.textContent = error.message; return; }
      status.textContent = (summary ? summary.phase : '') + (rows !== undefined ? ' · ' + rows + ' rows' : '');
    });
    follower.run();
  });

  // The SQL workspace.
  const workspace = document.querySelector('[data-workspace]');
  if (workspace) {
    const environment = workspace.dataset.environment;
    const editor = document.getElementById('sql-editor');
    const runButton = document.getElementById('run-statement');
    const stopButton = document.getElementById('stop-statement');
    const nameLabel = document.getElementById('workspace-statement-name');
    const link = document.getElementById('workspace-statement-link');
    const phaseLabel = document.getElementById('workspace-phase');
    const errorLabel = document.getElementById('workspace-error');
    const statusLabel = document.getElementById('workspace-status');
    const table = new LiveTable(document.getElementById('workspace-results'));
    let follower = null;
    let starting = false;

    const showError = (message) => { errorLabel.textContent = message || ''; errorLabel.hidden = !message; };
    const report = (summary, error, rows) => {
      if (error) { showError(error.message); return; }
      if (!summary) { return; }
      phaseLabel.textContent = summary.phase || '';
      phaseLabel.className = 'phase-badge phase-' + (summary.phase || '');
      showError(summary.phase === 'FAILED' ? summary.detail : '');
      stopButton.disabled = terminal.has(summary.phase) || summary.phase === 'STOPPING';
      if (rows !== undefined) { statusLabel.textContent = rows + (rows === 1 ? ' row' : ' rows') + (rows > 1000 ? ' (showing the first 1000)' : ''); }
      else if (summary.phase !== 'FAILED' && summary.detail) { statusLabel.textContent = summary.detail; }
    };
    // A query the workspace started is stopped when the workspace lets it go (another Run, leaving the page):
    // its results would only use the pool. Anything else (INSERT, CTAS, DDL) is left to run. The kind is
    // known from the start: the server dry-runs the statement before creating it.
    const release = (previous, keepalive) => {
      if (!previous) { return; }
      previous.stop();
      const summary = previous.summary;
      if (!summary || summary.sql_kind !== 'SELECT' || terminal.has(summary.phase)) { return; }
      fetch(previous.base + '/stop', { method: 'POST', keepalive, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken() } })
        .catch(() => {});
    };

    async function run() {
      if (starting) { return; }
      const sql = editor.value.trim();
      if (!sql) { showError('Write a statement to run.'); return; }
      starting = true; runButton.disabled = true;
      release(follower, false); follower = null;
      showError(''); statusLabel.textContent = ''; table.reset(); phaseLabel.textContent = ''; stopButton.disabled = true;
      try {
        const created = await call('POST', '/console/api/environments/' + enc(environment) + '/statements', {
          sql, compute_pool_id: document.getElementById('workspace-pool').value,
          catalog: document.getElementById('workspace-catalog').value, database: document.getElementById('workspace-database').value,
        });
        nameLabel.textContent = created.name;
        link.href = '/environments/' + enc(environment) + '/flink/statements/' + enc(created.name);
        link.hidden = false;
        follower = new Follower(environment, created.name, table, report);
        follower.summary = created;
        report(created, null);
        follower.run();
      } catch (error) {
        showError(error.message);
      } finally {
        starting = false; runButton.disabled = false;
      }
    }

    runButton.addEventListener('click', run);
    editor.addEventListener('keydown', (event) => { if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); } });
    stopButton.addEventListener('click', async () => {
      const current = follower;
      if (!current) { return; }
      stopButton.disabled = true;
      try {
        const summary = await call('POST', current.base + '/stop');
        current.tell(summary, null);
      } catch (error) {
        if (current.active) { showError(error.message); stopButton.disabled = false; }
      }
    });
    // Leaving the page lets the query go, unless the page is kept for back/forward (then it reloads on return).
    window.addEventListener('pagehide', (event) => { if (!event.persisted) { release(follower, true); } });
    window.addEventListener('pageshow', (event) => { if (event.persisted) { window.location.reload(); } });
  }
})();
