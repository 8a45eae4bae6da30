/**
 * The page's markup and style, shipped inside the build (no files to copy, no CDN). Its script is
 * `page/app.ts`, compiled for the browser next to this module. `__TOKEN__` is replaced per run.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>claude-relay dashboard</title>
<link rel="stylesheet" href="app.css?t=__TOKEN__">
<script type="module" src="app.js?t=__TOKEN__"></script>
</head>
<body>
<header>
  <h1>claude-relay</h1>
  <span id="where"></span>
  <span id="link" class="link" data-state="connecting">connecting…</span>
</header>
<div id="error" class="error" hidden></div>
<main>
  <section class="card" id="sessions-card"><h2>Sessions</h2><div id="machines"></div></section>
  <section class="card" id="traffic-card"><h2>Traffic, last hour</h2><div id="traffic"></div></section>
  <section class="card wide" id="messages-card">
    <h2>Messages <span id="message-count" class="muted"></span></h2>
    <div class="filters">
      <label>session <select id="filter-session"><option value="">all</option></select></label>
      <label>state <select id="filter-state">
        <option value="">all</option><option value="queued">queued</option>
        <option value="handed">handed to the client</option><option value="returned">returned to the model</option>
        <option value="expired">expired</option>
      </select></label>
    </div>
    <div id="messages"></div>
  </section>
  <section class="card" id="compose-card">
    <h2>Send as <code>user</code></h2>
    <form id="compose">
      <label>to <input id="compose-to" list="compose-names" required autocomplete="off" placeholder="session name"></label>
      <datalist id="compose-names"></datalist>
      <label>type <select id="compose-type"><option>info</option><option>request</option><option>response</option></select></label>
      <label>reply to <input id="compose-reply" placeholder="id (optional)" size="8" autocomplete="off"></label>
      <textarea id="compose-body" rows="3" required placeholder="message"></textarea>
      <button type="submit">Send</button>
      <span id="compose-result" class="muted"></span>
    </form>
  </section>
  <section class="card" id="outbox-card"><h2>Outbox to other machines</h2><div id="outbox"></div>
    <h2>Quarantined</h2><div id="quarantined"></div><div id="problems"></div></section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d232b; --muted:#68717d; --line:#e2e5ea; --accent:#2f6fdd;
  --queued:#b7791f; --handed:#2f6fdd; --returned:#23854f; --expired:#a23b3b; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display:flex; align-items:baseline; gap:16px; padding:12px 20px; background:var(--card); border-bottom:1px solid var(--line); }
h1 { font-size:17px; margin:0; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:0 0 10px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size:12.5px; }
.muted { color:var(--muted); font-weight:normal; }
#where { color:var(--muted); flex:1; }
.link::before { content:"●"; margin-right:6px; }
.link[data-state=live] { color:var(--returned); }
.link[data-state=connecting] { color:var(--queued); }
.error { margin:12px 20px 0; padding:10px 14px; border:1px solid #e3b4b4; background:#fdf0f0; color:#7d2424; border-radius:6px; }
main { display:grid; grid-template-columns: minmax(0, 1.35fr) minmax(0, 1fr); gap:16px; padding:16px 20px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; min-width:0; overflow-x:auto; }
.wide { grid-column: 1 / -1; }
.machine + .machine { margin-top:12px; }
.machine h3 { font-size:13px; margin:0 0 6px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:var(--muted); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
.badge { display:inline-block; padding:0 7px; border-radius:10px; font-size:12px; border:1px solid var(--line); white-space:nowrap; }
.push-native, .push-channel { color:var(--returned); border-color:#b9dcc7; background:#eef8f2; }
.push-asks { color:var(--muted); }
.unread { font-weight:600; color:var(--queued); }
.matrix td.cell { text-align:center; font-variant-numeric: tabular-nums; }
.matrix td.cell.zero { color:#c4c9d0; }
.matrix td.cell.hot { font-weight:600; }
.filters { display:flex; gap:16px; margin-bottom:8px; }
select, input, textarea, button { font:inherit; }
select, input, textarea { border:1px solid var(--line); border-radius:5px; padding:3px 6px; background:#fff; }
.thread { border-left:3px solid var(--line); margin:0 0 8px; padding-left:8px; }
.thread.multi { border-left-color:var(--accent); }
.msg { display:grid; grid-template-columns: 64px minmax(150px, 210px) 64px 150px minmax(250px, 300px) 1fr; gap:10px; padding:6px 0; border-bottom:1px solid var(--line); align-items:baseline; }
.msg:last-child { border-bottom:0; }
.msg .body { white-space:pre-wrap; overflow-wrap:anywhere; max-height:8.5em; overflow:auto; }
.msg[data-depth="1"] .route, .msg[data-depth="2"] .route { padding-left:14px; }
.msg .re { color:var(--muted); }
.state-queued { color:var(--queued); border-color:#ecd3a6; background:#fdf7ec; }
.state-handed { color:var(--handed); border-color:#bcd0f2; background:#eef3fc; }
.state-returned { color:var(--returned); border-color:#b9dcc7; background:#eef8f2; }
.state-expired { color:var(--expired); border-color:#e6bcbc; background:#fbefef; }
.type { color:var(--muted); }
#compose { display:grid; grid-template-columns: auto auto 1fr; gap:8px 12px; align-items:center; }
#compose textarea { grid-column: 1 / -1; width:100%; resize:vertical; }
#compose button { justify-self:start; padding:4px 16px; border:1px solid var(--accent); background:var(--accent); color:#fff; border-radius:5px; cursor:pointer; }
.empty { color:var(--muted); font-style:italic; }
td.client, td.dir { white-space:nowrap; }
#outbox-card h2 + div, #outbox + h2 { margin-top:10px; }
#quarantined { margin-bottom:6px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } .msg { grid-template-columns: 1fr; gap:2px; } }
`;
