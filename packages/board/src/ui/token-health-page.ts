import { createHash } from 'node:crypto';

/*
 * The token-health page the board serves at / and /ui: one self-contained document, no build step and no external
 * URL. It reads the operator API with same-origin fetches (the browser resends the Basic credentials it logged in
 * with). Every value from the API reaches the DOM through textContent or an SVG attribute, never as markup; the API
 * never answers a token, so none can reach the page.
 *
 * The inline style and script are allowed by their SHA-256 hashes in TOKEN_HEALTH_PAGE_CSP, so the document is a
 * constant. The script avoids template literals so it can live in this one.
 */

const STYLE = `
:root {
  --bg: #f5f6f8; --panel: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb; --accent: #2454d6;
  --ok: #1f9d55; --bad: #d64545; --warn: #c27c0e; --off: #8a94a6;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #16213e; color: #fff; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header .meta { color: #b9c3dc; font-size: 12px; }
header button { margin-left: auto; }
main { padding: 18px 24px 32px; display: grid; gap: 16px; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; overflow-x: auto; }
h2 { margin: 0 0 10px; font-size: 14px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.cards { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--off); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .count { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card[data-status="connected"] { border-left-color: var(--ok); }
.card[data-status="token_expired"] { border-left-color: var(--warn); }
.card[data-status="needs_reauth"], .card[data-status="error"] { border-left-color: var(--bad); }
.card[data-status="total"] { border-left-color: var(--accent); }
.row2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) minmax(0, 2fr); gap: 16px; }
.split { display: grid; grid-template-columns: minmax(0, 8fr) minmax(0, 5fr); gap: 16px; align-items: start; }
table.fixed { table-layout: fixed; }
table.fixed th, table.fixed td { max-width: none; }
col.c-id { width: 26%; } col.c-provider { width: 10%; } col.c-owner { width: 22%; } col.c-status { width: 14%; } col.c-time { width: 14%; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 260px; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; }
tbody.rows tr { cursor: pointer; }
tbody.rows tr:hover { background: #eef2fc; }
tbody.rows tr[aria-selected="true"] { background: #dfe7fb; }
tbody.rows tr:focus { outline: 2px solid var(--accent); outline-offset: -2px; }
.empty { color: var(--muted); font-style: italic; }
h2 .hint { text-transform: none; letter-spacing: 0; font-weight: 400; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #eef0f3; }
.status.connected, .status.success { background: #e3f5ea; color: #146c3a; }
.status.token_expired, .status.transient, .status.rate_limited { background: #fdf1dc; color: #8a5a06; }
.status.needs_reauth, .status.error, .status.reauth, .status.fatal { background: #fde4e4; color: #a02828; }
.status.disconnected { background: #eceef2; color: #555f70; }
svg.chart { width: 100%; height: 170px; display: block; }
svg.chart .success { fill: var(--ok); }
svg.chart .failure { fill: var(--bad); }
svg.chart .axis { stroke: var(--line); }
svg.chart text { fill: var(--muted); font-size: 10px; }
.legend { font-size: 12px; color: var(--muted); display: flex; gap: 14px; }
.legend .sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.legend .sw.success { background: var(--ok); }
.legend .sw.failure { background: var(--bad); }
dl.fields { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px; margin: 0 0 12px; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.actions { display: flex; align-items: center; gap: 12px; margin: 8px 0 14px; }
button { font: inherit; padding: 5px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: inherit; border-color: #8a94a6; }
#reconnect-url { width: 100%; margin-top: 8px; font: 12px ui-monospace, monospace; }
button:disabled { opacity: .6; cursor: progress; }
.line { font-size: 13px; }
.line.ok { color: var(--ok); }
.line.bad { color: var(--bad); }
.error-banner { background: #fde4e4; color: #a02828; border-radius: 6px; padding: 8px 12px; }
section.outages { background: #fde4e4; border: 1px solid #f2b8b8; border-left: 4px solid var(--bad); border-radius: 8px; padding: 10px 16px; }
section.outages h2 { color: #a02828; }
section.outages ul { margin: 0; padding-left: 18px; }
section.outages li { margin: 2px 0; }
[hidden] { display: none !important; }
@media (max-width: 1000px) { .cards { grid-template-columns: repeat(3, minmax(0, 1fr)); } .row2, .split { grid-template-columns: minmax(0, 1fr); } }
`;

const SCRIPT = `
const STATUSES = ['connected', 'token_expired', 'needs_reauth', 'error', 'disconnected'];
const NEEDS_PERSON = ['needs_reauth', 'error', 'disconnected'];
const $ = (id) => document.getElementById(id);
/** A read-only board refuses every change (405): the page offers none. */
const READ_ONLY = document.body.dataset.readOnly === 'true';
let selectedId = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function pad(n) { return String(n).padStart(2, '0'); }

/** An instant as "YYYY-MM-DD HH:MM:SS UTC", or an em dash. */
function when(value) {
  if (value === null || value === undefined) return '\\u2014';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
    pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + ' UTC';
}

/** An instant as "MM-DD HH:MM" (UTC) for the table; the cell's title has it in full. */
function short(value) {
  if (value === null || value === undefined) return '\\u2014';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
}

/** "in 59m", "3m ago". */
function relative(value) {
  if (value === null || value === undefined) return '';
  const seconds = Math.round((new Date(value).getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 90 ? abs + 's' : abs < 5400 ? Math.round(abs / 60) + 'm' : abs < 172800 ? Math.round(abs / 3600) + 'h' : Math.round(abs / 86400) + 'd';
  return seconds >= 0 ? 'in ' + text : text + ' ago';
}

/**
 * One URL path segment. "." and ".." cannot be sent as an id: the URL parser reads them (even as %2E) as "this" and
 * "parent" directory, so "/api/connections/./refresh" would reach the bulk refresh.
 */
function segment(value) {
  const text = String(value);
  if (text === '' || text === '.' || text === '..') throw new Error('connection id "' + text + '" cannot be addressed in a URL');
  return encodeURIComponent(text);
}

function badge(text) { return el('span', text ?? '\\u2014', 'status ' + String(text ?? '')); }

async function api(path, init) {
  // x-evergreen-request: the board refuses a POST without it (or JSON), so a form on another site cannot post one.
  const headers = { accept: 'application/json', 'x-evergreen-request': '1' };
  const response = await fetch(path, Object.assign({ credentials: 'same-origin', headers }, init));
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    const code = body && typeof body.error === 'string' ? body.error : 'HTTP ' + response.status;
    const issues = body && Array.isArray(body.issues) ? body.issues.map((i) => i.field + ' ' + i.reason).join('; ') : '';
    const message = body && typeof body.message === 'string' ? ': ' + body.message : issues ? ': ' + issues : '';
    throw new Error(code + message);
  }
  return body;
}

function showError(error) {
  const banner = $('error');
  banner.textContent = 'Could not load: ' + (error instanceof Error ? error.message : String(error));
  banner.hidden = false;
}

function renderCards(health) {
  const cards = $('cards');
  cards.replaceChildren();
  const add = (key, label, count) => {
    const card = el('div', null, 'card');
    card.dataset.status = key;
    card.dataset.testid = 'card-' + key;
    card.append(el('div', label, 'label'), el('div', count, 'count'));
    cards.append(card);
  };
  add('total', 'total', health.total);
  for (const status of STATUSES) add(status, status.replace('_', ' '), health.byStatus[status] ?? 0);
}

function simpleTable(tbody, rows, emptyText, columns) {
  tbody.replaceChildren();
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', emptyText, 'empty');
    td.colSpan = columns;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const cells of rows) {
    const tr = el('tr');
    for (const cell of cells) tr.append(cell instanceof Node ? wrap(cell) : el('td', cell, typeof cell === 'number' ? 'num' : ''));
    tbody.append(tr);
  }
}

function wrap(node) { const td = el('td'); td.append(node); return td; }

function renderOutages(health) {
  const open = health.openBreakers ?? [];
  const list = $('outages-list');
  list.replaceChildren();
  for (const b of open) {
    const counts = b.failures !== null && b.requests !== null ? ', ' + b.failures + ' of ' + b.requests + ' requests failed' : '';
    const item = el('li');
    item.dataset.testid = 'outage-' + b.provider;
    item.append(
      el('strong', b.provider),
      document.createTextNode(': token endpoint failing since ' + when(b.openedAt) + ' (' + (b.reason ?? 'unknown') + counts +
        '). Refreshes are held and probed; next probe ' + when(b.nextProbeAt) + '.'),
    );
    list.append(item);
  }
  $('outages').hidden = open.length === 0;
}

function renderExpiring(health) {
  const rows = Object.entries(health.expiringWithinHour).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  simpleTable($('expiring'), rows, 'none', 2);
}

function renderFailures(health) {
  const rows = health.failuresLast24h.map((f) => [badge(f.outcome), f.reason ?? '\\u2014', f.count]);
  simpleTable($('failures'), rows, 'no failures', 3);
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function hhmm(value) { const d = new Date(value); return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()); }

function renderChart(health) {
  const chart = $('chart');
  chart.replaceChildren();
  const buckets = health.refreshes.buckets;
  const width = 720, height = 170, left = 30, right = 6, top = 8, bottom = 22;
  chart.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  const plotH = height - top - bottom;
  const max = Math.max(1, ...buckets.map((b) => b.success + b.failure));
  const step = (width - left - right) / Math.max(1, buckets.length);
  const barW = Math.max(1, step - 2);
  chart.append(svg('line', { x1: left, x2: width - right, y1: top + plotH, y2: top + plotH, class: 'axis' }));
  chart.append(svg('line', { x1: left, x2: width - right, y1: top, y2: top, class: 'axis' }));
  chart.append(svg('text', { x: left - 4, y: top + 8, 'text-anchor': 'end' }, max));
  chart.append(svg('text', { x: left - 4, y: top + plotH, 'text-anchor': 'end' }, 0));
  let total = 0;
  buckets.forEach((b, i) => {
    const x = left + i * step + 1;
    const successH = (b.success / max) * plotH;
    const failureH = (b.failure / max) * plotH;
    total += b.success + b.failure;
    const group = svg('g', { 'data-start': b.start });
    const title = svg('title', {}, hhmm(b.start) + ' UTC: ' + b.success + ' success, ' + b.failure + ' failure');
    group.append(title);
    if (b.success > 0) group.append(svg('rect', { x, y: top + plotH - successH, width: barW, height: successH, class: 'success' }));
    if (b.failure > 0) group.append(svg('rect', { x, y: top + plotH - successH - failureH, width: barW, height: failureH, class: 'failure' }));
    chart.append(group);
    const lastBucket = i === buckets.length - 1;
    if (i % 12 === 0 || lastBucket) {
      const anchor = i === 0 ? 'start' : lastBucket ? 'end' : 'middle';
      const tx = i === 0 ? x : lastBucket ? x + barW : x + barW / 2;
      chart.append(svg('text', { x: tx, y: height - 6, 'text-anchor': anchor }, hhmm(b.start)));
    }
  });
  $('chart-total').textContent = total + (total === 1 ? ' attempt' : ' attempts') + ' in the last ' + Math.round((buckets.length * health.refreshes.bucketSeconds) / 3600) + ' h';
}

function renderConnections(page) {
  const tbody = $('connections');
  tbody.replaceChildren();
  if (page.items.length === 0) {
    const tr = el('tr');
    const td = el('td', 'no connections', 'empty');
    td.colSpan = 6;
    tr.append(td);
    tbody.append(tr);
  }
  for (const c of page.items) {
    const tr = el('tr');
    tr.dataset.id = c.connectionId;
    tr.tabIndex = 0;
    tr.setAttribute('aria-selected', String(c.connectionId === selectedId));
    const expires = el('td', short(c.expiresAt));
    expires.title = when(c.expiresAt) + ' ' + relative(c.expiresAt);
    const last = el('td', short(c.lastRefreshAt));
    last.title = c.lastRefreshAt ? when(c.lastRefreshAt) + ' ' + (c.lastRefreshOutcome ?? '') : '';
    const idCell = el('td', c.connectionId);
    idCell.title = c.connectionId;
    const ownerCell = el('td', c.ownerId);
    ownerCell.title = c.ownerId;
    tr.append(idCell, el('td', c.provider), ownerCell, wrap(badge(c.status)), expires, last);
    tr.addEventListener('click', () => select(c.connectionId));
    tr.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); select(c.connectionId); } });
    tbody.append(tr);
  }
  $('connections-more').hidden = page.nextCursor === null;
}

async function loadOverview() {
  const [health, page] = await Promise.all([api('/api/health/tokens'), api('/api/connections?limit=50')]);
  $('error').hidden = true;
  $('generated').textContent = 'as of ' + when(health.generatedAt);
  renderOutages(health);
  renderCards(health);
  renderExpiring(health);
  renderFailures(health);
  renderChart(health);
  renderConnections(page);
  document.body.dataset.loaded = 'true';
}

function renderDetail(d) {
  $('detail-empty').hidden = true;
  $('detail-body').hidden = false;
  $('detail-title').textContent = d.connectionId;
  const fields = $('detail-fields');
  fields.replaceChildren();
  const add = (name, value, key) => {
    const dd = el('dd');
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value === null || value === undefined || value === '' ? '\\u2014' : String(value);
    dd.dataset.field = key;
    fields.append(el('dt', name), dd);
  };
  add('Provider', d.provider, 'provider');
  add('Owner', d.ownerId, 'ownerId');
  add('Status', badge(d.status), 'status');
  add('Version', d.version, 'version');
  add('Scopes', Array.isArray(d.scopes) && d.scopes.length > 0 ? d.scopes.join(' ') : null, 'scopes');
  add('Expires at', d.expiresAt ? when(d.expiresAt) + ' (' + relative(d.expiresAt) + ')' : null, 'expiresAt');
  add('Next refresh', d.refreshAt ? when(d.refreshAt) + ' (' + relative(d.refreshAt) + ')' : null, 'refreshAt');
  add('Refresh token expires', d.refreshTokenExpiresAt ? when(d.refreshTokenExpiresAt) : null, 'refreshTokenExpiresAt');
  add('Last refresh', d.lastRefreshAt ? when(d.lastRefreshAt) : null, 'lastRefreshAt');
  add('Last outcome', d.lastRefreshOutcome ? d.lastRefreshOutcome + (d.lastRefreshReason ? ' (' + d.lastRefreshReason + ')' : '') : null, 'lastRefreshOutcome');
  add('Consecutive failures', d.consecutiveFailures, 'consecutiveFailures');
  add('Metadata', d.metadata && Object.keys(d.metadata).length > 0 ? JSON.stringify(d.metadata) : null, 'metadata');
  add('Created', when(d.createdAt), 'createdAt');
  add('Updated', when(d.updatedAt), 'updatedAt');
  const live = d.status === 'connected' || d.status === 'token_expired';
  $('force-refresh').hidden = READ_ONLY;
  $('force-refresh').disabled = !live || READ_ONLY;
  $('force-refresh').title = live ? '' : 'only live connections (connected, token expired) can be refreshed';
  // A connection that needs a person gets a reconnect link: a connect session its owner opens (docs/connect.md).
  $('reconnect').hidden = READ_ONLY || !NEEDS_PERSON.includes(d.status);
  $('reconnect').disabled = false;
  $('reconnect-url').hidden = true;
  $('reconnect-url').value = '';
  const events = (d.refreshEvents ?? []).slice(0, 10).map((e) => [
    when(e.createdAt), badge(e.outcome), e.reason ?? '\\u2014', e.trigger, e.httpStatus ?? '\\u2014', e.durationMs + ' ms',
  ]);
  simpleTable($('events'), events, 'no refresh attempts yet', 6);
}

async function select(id) {
  selectedId = id;
  for (const tr of $('connections').querySelectorAll('tr')) tr.setAttribute('aria-selected', String(tr.dataset.id === id));
  const line = $('refresh-line');
  line.textContent = '';
  line.className = 'line';
  // Until this connection's detail is on show, the button must not act on it (nor on the one shown before).
  $('force-refresh').disabled = true;
  try {
    const detail = await api('/api/connections/' + segment(id));
    if (selectedId === id) renderDetail(detail);
  } catch (error) {
    line.textContent = error instanceof Error ? error.message : String(error);
    line.className = 'line bad';
  }
}

async function forceRefresh() {
  if (selectedId === null || READ_ONLY) return;
  const id = selectedId;
  const button = $('force-refresh');
  const line = $('refresh-line');
  button.disabled = true;
  line.textContent = 'Refreshing\\u2026';
  line.className = 'line';
  try {
    const view = await api('/api/connections/' + segment(id) + '/refresh', { method: 'POST' });
    const detail = await api('/api/connections/' + segment(id));
    if (selectedId !== id) return;
    renderDetail(detail);
    line.textContent = 'Refreshed \\u2014 version ' + view.version + ', ' + when(view.lastRefreshAt);
    line.className = 'line ok';
    loadOverview().catch(showError);
  } catch (error) {
    const message = 'Refresh failed: ' + (error instanceof Error ? error.message : String(error));
    button.disabled = false;
    // Re-read the connection (a failed refresh may have changed its status), then say what went wrong.
    await select(id);
    line.textContent = message;
    line.className = 'line bad';
  }
}

async function reconnectLink() {
  if (selectedId === null || READ_ONLY) return;
  const id = selectedId;
  const line = $('refresh-line');
  $('reconnect').disabled = true;
  try {
    const link = await api('/api/connections/' + segment(id) + '/reconnect', { method: 'POST' });
    if (selectedId !== id) return;
    const field = $('reconnect-url');
    field.value = link.authorizationUrl;
    field.hidden = false;
    field.select();
    line.textContent = 'Send this link to the owner: it works once, until ' + when(link.expiresAt) + '.';
    line.className = 'line ok';
  } catch (error) {
    line.textContent = 'No reconnect link: ' + (error instanceof Error ? error.message : String(error));
    line.className = 'line bad';
  } finally {
    $('reconnect').disabled = false;
  }
}

$('force-refresh').addEventListener('click', () => { forceRefresh(); });
$('reconnect').addEventListener('click', () => { reconnectLink(); });
$('reload').addEventListener('click', () => {
  loadOverview().catch(showError);
  if (selectedId !== null) select(selectedId);
});
loadOverview().catch(showError);
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's Content-Security-Policy: its own origin, plus exactly the inline style and script below (by hash). */
export const TOKEN_HEALTH_PAGE_CSP = [
  "default-src 'self'",
  `script-src 'self' ${hash(SCRIPT)}`,
  `style-src 'self' ${hash(STYLE)}`,
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page; `readOnly` hides its Force refresh button (the board would refuse it anyway). */
export const tokenHealthPageHtml = (readOnly: boolean): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Evergreen · token health</title>
<style>${STYLE}</style>
</head>
<body data-read-only="${String(readOnly)}">
<header>
  <h1>Evergreen · token health</h1>
  <span class="meta" id="generated">loading…</span>
  <button type="button" class="secondary" id="reload">Reload</button>
</header>
<main>
  <div class="error-banner" id="error" role="alert" hidden></div>
  <section class="outages" id="outages" aria-labelledby="outages-title" role="alert" hidden>
    <h2 id="outages-title">Provider outage: circuit breaker open</h2>
    <ul id="outages-list"></ul>
  </section>
  <section class="cards" id="cards" aria-label="Connections by status"></section>
  <div class="row2">
    <section class="panel" aria-labelledby="expiring-title">
      <h2 id="expiring-title">Expiring in the next hour</h2>
      <table><thead><tr><th>Provider</th><th class="num">Tokens</th></tr></thead><tbody id="expiring"></tbody></table>
    </section>
    <section class="panel" aria-labelledby="failures-title">
      <h2 id="failures-title">Failures, last 24 h</h2>
      <table><thead><tr><th>Outcome</th><th>Reason</th><th class="num">Count</th></tr></thead><tbody id="failures"></tbody></table>
    </section>
    <section class="panel" aria-labelledby="chart-title">
      <h2 id="chart-title">Refreshes per 5 minutes</h2>
      <svg class="chart" id="chart" role="img" aria-label="Refresh attempts per 5-minute bucket, success and failure"></svg>
      <div class="legend"><span><span class="sw success"></span>success</span><span><span class="sw failure"></span>failure</span><span id="chart-total"></span></div>
    </section>
  </div>
  <div class="split">
    <section class="panel" aria-labelledby="connections-title">
      <h2 id="connections-title">Connections <span class="hint">(times in UTC)</span></h2>
      <table class="fixed">
        <colgroup><col class="c-id"><col class="c-provider"><col class="c-owner"><col class="c-status"><col class="c-time"><col class="c-time"></colgroup>
        <thead><tr><th>ID</th><th>Provider</th><th>Owner</th><th>Status</th><th>Expires</th><th>Last refresh</th></tr></thead>
        <tbody class="rows" id="connections"></tbody>
      </table>
      <p class="empty" id="connections-more" hidden>Showing the first 50 (by id); use the API to page further.</p>
    </section>
    <section class="panel" id="detail" aria-labelledby="detail-heading">
      <h2 id="detail-heading">Connection</h2>
      <p class="empty" id="detail-empty">Select a connection to see its details.</p>
      <div id="detail-body" hidden>
        <h3 id="detail-title"></h3>
        <dl class="fields" id="detail-fields"></dl>
        <div class="actions">
          <button type="button" id="force-refresh"${readOnly ? ' hidden' : ''}>Force refresh</button>
          <button type="button" class="secondary" id="reconnect" hidden>Reconnect link</button>
          <span class="line" id="refresh-line" role="status" aria-live="polite"></span>
        </div>
        <input type="text" readonly id="reconnect-url" aria-label="Reconnect link" hidden>
        <h2>Last refresh attempts</h2>
        <table>
          <thead><tr><th>At</th><th>Outcome</th><th>Reason</th><th>Trigger</th><th class="num">HTTP</th><th class="num">Took</th></tr></thead>
          <tbody id="events"></tbody>
        </table>
      </div>
    </section>
  </div>
</main>
<script type="module">${SCRIPT}</script>
</body>
</html>
`;
