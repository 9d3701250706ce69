'use strict';
(() => {
  const csrfToken = () => { const meta = document.querySelector('meta[name="csrf-token"]'); return meta ? meta.content : ''; };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const enc = encodeURIComponent;

  /**
   * A call to the console's JSON endpoints, with the session's CSRF token. A refusal throws an Error carrying the
   * answer's `status` and, for 429, its `retryAfter` in seconds (null when absent), so a caller can tell "slow down"
   * apart from "failed"; a server that cannot be reached throws fetch's own error, with no `status`.
   */
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
      error.retryAfter = retryAfterSeconds(response.headers.get('Retry-After'));
      throw error;
    }
    return json;
  }

  /** `Retry-After` in seconds: delay-seconds, or an HTTP date (counted from now); null when absent or unreadable. */
  function retryAfterSeconds(value) {
    if (!value) { return null; }
    if (/^\s*\d+\s*$/.test(value)) { return Number(value); }
    const date = Date.parse(value);
    return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
  }

  /**
   * How long to wait before asking for the next page of a statement's results, in milliseconds: the rule of the
   * CLI's ResultPollPacer (Sources/FloeCLI/Support/ResultPollPacer.swift), so the console and the CLI treat the
   * server alike. A follower that asked again at once would make dozens of requests a second of a stream that
   * trickles, and run into the per-client rate limits (shared with every other page and command from the address).
   *
   * - A busy page (at least `busyPage` changes) means rows are waiting: ask again at once, and forget any backoff.
   * - A smaller or empty page doubles the interval between requests from 100 ms up to 1 s. The time the request
   *   took counts towards it: the server holds a page that is not full for up to a second to gather rows, and a
   *   server that already paced its answer adds no wait here.
   * - 429 waits its `Retry-After` (at least the longest interval) and slows down for good.
   * - A server that cannot be reached, or fails (5xx), is asked again after 0.5 s doubling to 5 s; after
   *   `failuresBeforeGivingUp` in a row the follower should stop following (which says nothing of the statement).
   */
  class PollPacer {
    constructor() {
      this.busyPage = 100; this.initialInterval = 100; this.maximumInterval = 1000;
      this.maximumFailureDelay = 5000; this.failuresBeforeGivingUp = 6;
      this.interval = 0; this.failures = 0;
    }
    get shouldGiveUp() { return this.failures >= this.failuresBeforeGivingUp; }
    /** The server answered (whatever it said): failures in a row start over. */
    reached() { this.failures = 0; }
    /** A page of `changes` changes arrived, the request having taken `elapsed` ms. */
    afterPage(changes, elapsed) {
      this.reached();
      if (changes >= this.busyPage) { this.interval = 0; return 0; }
      this.interval = Math.min(Math.max(this.interval * 2, this.initialInterval), this.maximumInterval);
      return Math.max(0, this.interval - elapsed);
    }
    /** The server refused with 429; `retryAfter` is its `Retry-After` in seconds, or null. */
    afterRateLimit(retryAfter) {
      this.reached();
      this.interval = this.maximumInterval;
      return Math.max(retryAfter === null || retryAfter === undefined ? 1000 : retryAfter * 1000, this.interval);
    }
    /** The server could not be reached, or answered with a server error. */
    afterFailure() {
      this.failures += 1;
      return Math.min(500 * 2 ** Math.min(this.failures - 1, 10), this.maximumFailureDelay);
    }
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
   * Follows a statement: its phase, and its results page by page until they end, paced by a PollPacer. A statement
   * without results (INSERT, DDL) is polled for its phase only, less and less often, until it ends. A rate limit or a
   * lost server is a passing state, reported as a note beside the last known phase ("reconnecting…"), never as the
   * statement failing; only after several failures in a row does the follower give up, saying that *following*
   * stopped. `stop()` lets it go: a follower let go reports nothing more.
   *
   * `report(summary, error, rows, note)`: the statement's summary, an error that ends following (or a refusal of
   * the statement), the rows shown (undefined before results start), and a transient note.
   */
  class Follower {
    constructor(environment, name, table, report) {
      this.base = '/console/api/environments/' + enc(environment) + '/statements/' + enc(name);
      this.table = table; this.report = report; this.active = true; this.summary = null;
    }
    stop() { this.active = false; }
    tell(summary, error, rows, note) { if (this.active) { this.report(summary, error, rows, note); } }
    async run() {
      const pacer = new PollPacer();
      let token = null; let started = false; let pause = 400; let failed = false;
      while (this.active) {
        let delay = 0;
        const began = performance.now();
        try {
          if (!started) {
            const summary = await call('GET', this.base);
            if (!this.active) { return; }
            pacer.reached();
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
          delay = pacer.afterPage(changes.length, performance.now() - began);
        } catch (error) {
          if (!this.active) { return; }
          const rows = started ? this.table.count : undefined;
          if (error.status === 429) {
            delay = pacer.afterRateLimit(error.retryAfter);
            this.tell(this.summary, null, rows, 'rate limited, retrying in ' + Math.ceil(delay / 1000) + ' s…');
          } else if (error.status === undefined || error.status >= 500) {
            delay = pacer.afterFailure();
            if (pacer.shouldGiveUp) {
              this.tell(this.summary, new Error('Stopped following the results: ' + pacer.failures + ' requests in a row failed (last: '
                + error.message + '). This says nothing of the statement, which may still be running; reload the page to follow it again.'), rows);
              failed = true; break;
            }
            this.tell(this.summary, null, rows, 'reconnecting…');
          } else {
            this.tell(this.summary, error); failed = true; break;
          }
        }
        if (delay > 0) { await sleep(delay); }
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
    let rowsShown;
    const follower = new Follower(element.dataset.environment, element.dataset.statement, new LiveTable(element), (summary, error, rows, note) => {
      if (!status) { return; }
      if (rows !== undefined) { rowsShown = rows; }
      const parts = [summary ? summary.phase : ''];
      if (rowsShown !== undefined) { parts.push(rowsShown + ' rows'); }
      if (error) { parts.push(error.message); } else if (note) { parts.push(note); }
      status.textContent = parts.filter(Boolean).join(' · ');
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
    // The rows shown, and whether the status line holds a passing note (rate limited, reconnecting) to clear.
    let rowsShown; let noted = false;
    const report = (summary, error, rows, note) => {
      if (rows !== undefined) { rowsShown = rows; }
      const count = rowsShown === undefined ? '' : rowsShown + (rowsShown === 1 ? ' row' : ' rows') + (rowsShown > 1000 ? ' (showing the first 1000)' : '');
      if (error) {
        showError(error.message);
        if (noted) { statusLabel.textContent = count; noted = false; }
        return;
      }
      if (!summary) { return; }
      phaseLabel.textContent = summary.phase || '';
      phaseLabel.className = 'phase-badge phase-' + (summary.phase || '');
      showError(summary.phase === 'FAILED' ? summary.detail : '');
      stopButton.disabled = terminal.has(summary.phase) || summary.phase === 'STOPPING';
      if (count || note) { statusLabel.textContent = [count, note].filter(Boolean).join(' · '); }
      else if (summary.phase !== 'FAILED' && summary.detail) { statusLabel.textContent = summary.detail; }
      else if (noted) { statusLabel.textContent = ''; }
      noted = Boolean(note);
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
      showError(''); statusLabel.textContent = ''; rowsShown = undefined; noted = false; table.reset(); phaseLabel.textContent = ''; stopButton.disabled = true;
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
