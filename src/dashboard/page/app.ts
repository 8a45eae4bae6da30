/**
 * The dashboard page, in the browser. It renders the view that `/api/events` streams (server-sent events)
 * and re-renders on each one. Every piece of data goes in through `textContent` or an attribute, never as
 * markup: a message body is someone else's text and must never become part of the page.
 */

import { $, duration } from './dom.js';
import { last, render, renderMessages, skew } from './render.js';
import type { View } from './view.js';

const token = new URLSearchParams(location.search).get('t') ?? '';

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
