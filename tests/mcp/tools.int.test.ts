import { describe, expect, it } from 'vitest';
import { sendMessage } from '../../src/relay/send.js';
import { createContext } from '../../src/relay/serve-session.js';
import { joinedSession, linkInMemory } from '../support/memory.js';
import { textOf } from '../support/stdio.js';
import { sentTo } from '../support/store.js';

/**
 * Each of the four tools once, through the server wiring `serve` uses (createMcpServer) and an SDK client
 * over an in-memory linked pair, on a real temp store: what the model reads and what lands on disk.
 */

async function world() {
  const api = await joinedSession('api');
  const web = await joinedSession('web', api.root);
  const { client } = await linkInMemory(api.session);
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args });
    return { text: textOf(result), isError: result.isError === true };
  };
  return { root: api.root, api, web, call };
}

describe('the four tools over an in-memory transport', () => {
  it('lists exactly relay_send, relay_poll, relay_broadcast and relay_sessions', async () => {
    const { api } = await world();
    const { client } = await linkInMemory(api.session);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'relay_broadcast',
      'relay_poll',
      'relay_send',
      'relay_sessions',
    ]);
  });

  it('relay_send: answers with the id, and the message waits in the recipient inbox', async () => {
    const { root, call } = await world();
    const answer = await call('relay_send', { to: 'web', message: 'hello web' });
    expect(answer.isError).toBe(false);
    const id = /^Sent #([a-z0-9]{6}) to web\.$/.exec(answer.text)?.[1];
    expect(id, answer.text).toBeDefined();
    const waiting = await sentTo(root, 'web');
    expect(waiting.map((m) => [m.from, m.to, m.body])).toEqual([['api', 'web', 'hello web']]);
    expect(waiting[0]?.id).toBe(id);
  });

  it('relay_poll: returns what was sent to the session, once', async () => {
    const { api, call } = await world();
    const sender = createContext({ config: api.config, name: 'web' });
    await sendMessage(sender, { to: 'api', message: 'hello api' });
    const first = await call('relay_poll');
    expect(first.isError).toBe(false);
    expect(first.text).toMatch(/^1 new message\(s\):\n {2}\[info\|local\] From web: #[a-z0-9]{6} hello api$/);
    expect((await call('relay_poll')).text).toBe('No new messages.');
  });

  it('relay_broadcast: every other session gets the message, the sender does not', async () => {
    const { root, api, call } = await world();
    await joinedSession('db', api.root);
    const answer = await call('relay_broadcast', { message: 'to all' });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.text).toBe('Sent to 2 session(s): db, web.');
    for (const to of ['web', 'db']) {
      expect((await sentTo(root, to)).map((m) => [m.from, m.body])).toEqual([['api', 'to all']]);
    }
    expect(await sentTo(root, 'api')).toEqual([]);
  });

  it('relay_sessions: names every live session, this one marked', async () => {
    const { root, call } = await world();
    const answer = await call('relay_sessions');
    expect(answer.isError).toBe(false);
    const line = (name: string) => `  - ${name} — ${root} (up <1m, pid ${process.pid})`;
    expect(answer.text).toBe(`2 active session(s):\n${line('api (you)')}\n${line('web')}`);
  });
});
