/**
 * The dashboard page, in the browser. It renders the view that `/api/events` streams (server-sent events)
 * and re-renders on each one. Every piece of data goes in through `textContent` or an attribute, never as
 * markup: a message body is someone else's text and must never become part of the page.
 */

interface SessionRow {
  name: string;
  machine: string;
  client?: string;
  cwd: string;
  pid: number;
  startedAt: number;
  push: 'native' | 'channel' | 'asks';
  unread: number | null;
}
interface MessageRow {
  key: string;
  id: string;
  from: string;
  to: string;
  origin?: string;
  type: string;
  body: string;
  bodyChars: number;
  replyTo?: string;
  thread: string;
  depth: number;
  state: 'queued' | 'handed' | 'returned' | 'expired';
  via?: string;
  sentAt: number;
  deliveryMs?: number;
}
interface View {
  now: number;
  machine: string;
  root: string;
  error?: string;
  machines?: { machine: string; local: boolean; sessions: SessionRow[] }[];
  traffic?: { names: string[]; cells: { from: string; to: string; count: number }[] };
  messages?: MessageRow[];
  messageCount?: number;
  outbox?: { id: string; from: string; to: string; type: string; body: string; sentAt: number }[];
  outboxCounts?: { waiting: number; delivered: number; refused: number };
  quarantined?: string[];
  remote?: { url: string; problem?: string };
  problems: { file: string; reason: string }[];
}

const token = new URLSearchParams(location.search).get('t') ?? '';
const STATE_TEXT: Record<MessageRow['state'], string> = {
  queued: 'queued',
  handed: 'handed to the client',
  returned: 'returned to the model',
  expired: 'expired',
};
let last: View | undefined;
/** Server time minus browser time, so uptimes count from the server's clock. */
let skew = 0;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { text?: string; cls?: string; title?: string; data?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.cls !== undefined) node.className = props.cls;
  if (props.title !== undefined) node.title = props.title;
  for (const [k, v] of Object.entries(props.data ?? {})) node.dataset[k] = v;
  node.append(...children);
  return node;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d`;
}

function deliveryText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : duration(ms);
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/** The end of a long path, which tells directories apart; the whole path is in the cell's title. */
function shortPath(p: string): string {
  return p.length > 28 ? `…${p.slice(-27)}` : p;
}

function empty(text: string): HTMLElement {
  return el('div', { cls: 'empty', text });
}

function renderSessions(view: View): void {
  const box = $('machines');
  const groups = view.machines ?? [];
  const nodes: Node[] = [];
  for (const g of groups) {
    const title = el(
      'h3',
      { text: g.machine },
      el('span', { cls: 'muted', text: g.local ? '  this machine' : '' }),
    );
    if (g.sessions.length === 0) {
      nodes.push(
        el('div', { cls: 'machine', data: { machine: g.machine } }, title, empty('no live session')),
      );
      continue;
    }
    const head = el(
      'tr',
      {},
      ...['name', 'client', 'directory', 'up', 'mail', 'unread'].map((h) =>
        el('th', { text: h, ...(h === 'unread' || h === 'up' ? { cls: 'num' } : {}) }),
      ),
    );
    const rows = g.sessions.map((s) =>
      el(
        'tr',
        { data: { session: s.name } },
        el('td', { cls: 'mono', text: s.name }),
        el('td', { cls: 'client', text: s.client ?? '—' }),
        el('td', { cls: 'mono dir', text: shortPath(s.cwd), title: `${s.cwd} (pid ${s.pid})` }),
        el('td', {
          cls: 'num uptime',
          text: duration(Date.now() + skew - s.startedAt),
          data: { since: String(s.startedAt) },
        }),
        el(
          'td',
          {},
          el('span', {
            cls: `badge push-${s.push}`,
            text: s.push === 'asks' ? 'asks' : `push (${s.push})`,
            title:
              s.push === 'asks' ? 'gets mail only when it polls or a hook runs' : 'mail reaches it by itself',
          }),
        ),
        el('td', {
          cls: `num${s.unread ? ' unread' : ''}`,
          text: s.unread === null ? '—' : String(s.unread),
          title: s.unread === null ? 'its inbox is on the relay' : '',
        }),
      ),
    );
    nodes.push(
      el('div', { cls: 'machine', data: { machine: g.machine } }, title, el('table', {}, head, ...rows)),
    );
  }
  if (view.remote?.problem)
    nodes.push(el('p', { cls: 'muted', text: `relay ${view.remote.url}: ${view.remote.problem}` }));
  box.replaceChildren(...(nodes.length ? nodes : [empty('no live session')]));
}

function renderTraffic(view: View): void {
  const t = view.traffic;
  if (!t || t.cells.length === 0) {
    $('traffic').replaceChildren(empty('no message in the last hour'));
    return;
  }
  const senders = [...new Set(t.cells.map((c) => c.from))].sort();
  const recipients = [...new Set(t.cells.map((c) => c.to))].sort();
  const count = new Map(t.cells.map((c) => [`${c.from}\u0000${c.to}`, c.count]));
  const max = Math.max(...t.cells.map((c) => c.count));
  const head = el(
    'tr',
    {},
    el('th', { text: 'from ↓  to →' }),
    ...recipients.map((r) => el('th', { cls: 'mono', text: r })),
  );
  const rows = senders.map((s) =>
    el(
      'tr',
      {},
      el('th', { cls: 'mono', text: s }),
      ...recipients.map((r) => {
        const n = count.get(`${s}\u0000${r}`) ?? 0;
        const cell = el('td', {
          cls: `cell${n === 0 ? ' zero' : n === max ? ' hot' : ''}`,
          text: String(n),
          data: { from: s, to: r },
        });
        if (n > 0) cell.style.background = `rgba(47, 111, 221, ${(0.08 + 0.32 * (n / max)).toFixed(2)})`;
        return cell;
      }),
    ),
  );
  $('traffic').replaceChildren(el('table', { cls: 'matrix' }, head, ...rows));
}

function messageNode(m: MessageRow): HTMLElement {
  const route = `${m.origin && m.origin !== 'relay' ? `${m.origin}:` : ''}${m.from} → ${m.to}`;
  const state = el('span', { cls: `badge state-${m.state}`, text: STATE_TEXT[m.state] });
  const stateCell = el('div', { cls: 'state' }, state);
  if (m.via) stateCell.append(el('span', { cls: 'muted via', text: ` via ${m.via}` }));
  if (m.deliveryMs !== undefined)
    stateCell.append(el('span', { cls: 'muted', text: ` in ${deliveryText(m.deliveryMs)}` }));
  const body = el('div', { cls: 'body', text: m.body });
  if (m.bodyChars > m.body.length)
    body.append(el('span', { cls: 'muted', text: ` … (${m.bodyChars} characters in all)` }));
  return el(
    'div',
    { cls: 'msg', data: { key: m.key, id: m.id, state: m.state, depth: String(Math.min(m.depth, 2)) } },
    el('span', { cls: 'muted mono', text: clock(m.sentAt), title: new Date(m.sentAt).toISOString() }),
    el(
      'span',
      { cls: 'route mono' },
      document.createTextNode(m.depth > 0 ? '↳ ' : ''),
      document.createTextNode(route),
    ),
    el('span', { cls: 'type', text: m.type }),
    el(
      'span',
      { cls: 'mono', text: `#${m.id}` },
      el('span', { cls: 're', text: m.replyTo ? ` re #${m.replyTo}` : '' }),
    ),
    stateCell,
    body,
  );
}

function renderMessages(view: View): void {
  const sessionFilter = $('filter-session') as HTMLSelectElement;
  const stateFilter = ($('filter-state') as HTMLSelectElement).value;
  const all = view.messages ?? [];
  const names = [
    ...new Set(
      all
        .flatMap((m) => [m.from, m.to])
        .concat((view.machines ?? []).filter((g) => g.local).flatMap((g) => g.sessions.map((s) => s.name))),
    ),
  ].sort();
  const chosen = sessionFilter.value;
  sessionFilter.replaceChildren(
    el('option', { text: 'all' }),
    ...names.map((n) => el('option', { text: n })),
  );
  (sessionFilter.options[0] as HTMLOptionElement).value = '';
  sessionFilter.value = names.includes(chosen) ? chosen : '';
  const shown = all.filter(
    (m) =>
      (sessionFilter.value === '' || m.from === sessionFilter.value || m.to === sessionFilter.value) &&
      (stateFilter === '' || m.state === stateFilter),
  );
  const threads: HTMLElement[] = [];
  let current: HTMLElement | undefined;
  for (const m of shown) {
    if (current?.dataset.thread !== m.thread) {
      current = el('div', { cls: 'thread', data: { thread: m.thread } });
      threads.push(current);
    }
    current.append(messageNode(m));
    if (current.childElementCount > 1) current.classList.add('multi');
  }
  const total = view.messageCount ?? all.length;
  $('message-count').textContent = total > all.length ? `(newest ${all.length} of ${total})` : `(${total})`;
  $('messages').replaceChildren(...(threads.length ? threads : [empty('no message')]));
  const datalist = $('compose-names');
  datalist.replaceChildren(...names.map((n) => el('option', { text: n })));
}

function renderOutbox(view: View): void {
  const out = view.outbox ?? [];
  const c = view.outboxCounts;
  const summary = c ? `${c.waiting} waiting, ${c.delivered} delivered, ${c.refused} refused` : '';
  const rows = out.map((o) =>
    el(
      'tr',
      { data: { id: o.id } },
      el('td', { cls: 'muted mono', text: clock(o.sentAt) }),
      el('td', { cls: 'mono', text: `${o.from} → ${o.to}` }),
      el('td', { cls: 'mono', text: `#${o.id}` }),
      el('td', { text: o.body }),
    ),
  );
  $('outbox').replaceChildren(
    el('div', { cls: 'muted', text: summary }),
    ...(rows.length ? [el('table', {}, ...rows)] : [empty('nothing waiting')]),
  );
  const q = view.quarantined ?? [];
  $('quarantined').replaceChildren(
    ...(q.length ? q.map((f) => el('div', { cls: 'mono', text: f })) : [empty('nothing')]),
  );
  $('problems').replaceChildren(
    ...view.problems.map((p) => el('div', { cls: 'muted mono', text: `skipped ${p.file}: it ${p.reason}` })),
  );
}

function render(view: View): void {
  last = view;
  skew = view.now - Date.now();
  $('where').textContent = `${view.root} on ${view.machine}`;
  const error = $('error');
  error.hidden = view.error === undefined;
  error.textContent = view.error === undefined ? '' : `The store cannot be read: ${view.error}`;
  renderSessions(view);
  renderTraffic(view);
  renderMessages(view);
  renderOutbox(view);
}

function connect(): void {
  const link = $('link');
  const source = new EventSource(`api/events?t=${encodeURIComponent(token)}`);
  source.addEventListener('open', () => {
    link.dataset.state = 'live';
    link.textContent = 'live';
  });
  source.addEventListener('view', (e) => render(JSON.parse((e as MessageEvent<string>).data) as View));
  // EventSource reconnects by itself; the page says so meanwhile.
  source.addEventListener('error', () => {
    link.dataset.state = 'connecting';
    link.textContent = 'reconnecting…';
  });
}

async function compose(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const result = $('compose-result');
  const body = {
    to: ($('compose-to') as HTMLInputElement).value.trim(),
    message: ($('compose-body') as HTMLTextAreaElement).value,
    type: ($('compose-type') as HTMLSelectElement).value,
    replyTo: ($('compose-reply') as HTMLInputElement).value.trim() || undefined,
  };
  result.textContent = 'sending…';
  const res = await fetch(`api/send?t=${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { id?: string; to?: string; live?: boolean; error?: string };
  if (!res.ok) {
    result.textContent = answer.error ?? `refused (${res.status})`;
    return;
  }
  result.textContent = `${answer.live ? 'sent' : 'queued (not live now)'} #${answer.id} to ${answer.to}`;
  ($('compose-body') as HTMLTextAreaElement).value = '';
}

for (const id of ['filter-session', 'filter-state'])
  $(id).addEventListener('change', () => last && renderMessages(last));
($('compose') as HTMLFormElement).addEventListener('submit', (e) => {
  compose(e).catch(() => {
    $('compose-result').textContent = 'not sent: the dashboard did not answer (is it still running?)';
  });
});
setInterval(() => {
  for (const cell of document.querySelectorAll<HTMLElement>('td.uptime'))
    cell.textContent = duration(Date.now() + skew - Number(cell.dataset.since));
}, 1000);
connect();
