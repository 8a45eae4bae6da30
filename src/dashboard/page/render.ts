/**
 * The page's sections drawn from one view: sessions by machine, the traffic matrix, the messages by thread
 * (with the filters applied) and the outbox. `render` keeps the last view, for the filters to redraw.
 */
import { $, clock, deliveryText, duration, el, empty, shortPath } from './dom.js';
import type { MessageRow, View } from './view.js';

const STATE_TEXT: Record<MessageRow['state'], string> = {
  queued: 'queued',
  handed: 'handed to the client',
  returned: 'returned to the model',
  expired: 'expired',
};
export let last: View | undefined;
/** Server time minus browser time, so uptimes count from the server's clock. */
export let skew = 0;

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

export function renderMessages(view: View): void {
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

export function render(view: View): void {
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
