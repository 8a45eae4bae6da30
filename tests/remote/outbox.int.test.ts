import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { loadConfig } from '../../src/relay/config.js';
import type { RelayContext } from '../../src/relay/context.js';
import { pollInbox } from '../../src/relay/poll.js';
import { parseAddress } from '../../src/relay/remote/address.js';
import { importRemote } from '../../src/relay/remote/import.js';
import {
  enqueueRemote,
  outboxCounts,
  pendingOutbox,
  recordForwarded,
} from '../../src/relay/remote/outbox.js';
import { createContext } from '../../src/relay/serve-session.js';
import type { LeasedMessage } from '../../src/remote/protocol.js';

/** The client side of the remote relay on a real store: routing, the durable outbox, importing polled mail. */
let home: string;

function context(extra: Record<string, string> = {}): RelayContext {
  const config = loadConfig(
    { RELAY_HOME: home, RELAY_MACHINE_NAME: 'laptop', RELAY_SESSION_NAME: 'web', ...extra },
    home,
  );
  return createContext({ config });
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isRelayError(e)) throw new Error(`expected a RelayError, got ${String(e)}`);
  return { code: e.code, message: e.message };
}

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-outbox-'));
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('routing a send', () => {
  it('name → this machine; machine:name → the relay; this machine’s own name → local; a bare name with a relay → decided in the queue', () => {
    expect(parseAddress('laptop', 'api', true)).toEqual({ kind: 'either', name: 'api' });
    expect(parseAddress('laptop', 'laptop:api', true)).toEqual({ kind: 'local', name: 'api' });
    expect(parseAddress('laptop', 'server-2:api', true)).toEqual({
      kind: 'remote',
      machine: 'server-2',
      name: 'api',
    });
    // Without a relay, a bare name is local (and the local send says when it is unknown).
    expect(parseAddress('laptop', 'docs', false)).toEqual({ kind: 'local', name: 'docs' });
  });

  it('INV-CONFINED: machine:name without a relay, and bad names on either side of ":", are refused in one sentence', async () => {
    const none = await refusal(Promise.resolve().then(() => parseAddress('laptop', 'server-2:api', false)));
    expect(none.code).toBe('remote_unavailable');
    expect(none.message).toMatch(/set RELAY_REMOTE_URL and RELAY_API_KEY/);
    for (const to of [
      '../x:api',
      'server-2:../../etc',
      'a:b:c',
      ':api',
      'server-2:',
      `${'x'.repeat(129)}:api`,
      'CON:api',
      '../x',
    ]) {
      const bad = await refusal(Promise.resolve().then(() => parseAddress('laptop', to, true)));
      expect(bad.code, to).toBe('bad_name');
      expect(bad.message).toMatch(/^Expected `to/);
    }
  });
});

describe('the outbox', () => {
  it('INV-REMOTE-OUTBOX / INV-FROM: entries are durable events in send order, from the session itself', async () => {
    const ctx = context();
    const sent = [];
    for (const n of [1, 2, 3]) {
      sent.push(
        await enqueueRemote(ctx, { machine: 'server-2', name: 'api' }, { body: `m${n}`, type: 'info' }),
      );
    }
    // Read back by a fresh context, as after a restart.
    const pending = await pendingOutbox(context().store);
    expect(pending.map((e) => e.body)).toEqual(['m1', 'm2', 'm3']);
    expect(
      pending.every((e) => e.from === 'web' && e.machine === 'laptop' && e.toMachine === 'server-2'),
    ).toBe(true);
    expect(pending.map((e) => e.key)).toEqual(sent.map((e) => e.key));
    expect(await outboxCounts(ctx.store)).toEqual({ waiting: 3, delivered: 0, refused: 0 });

    const [first] = pending;
    if (!first) throw new Error('no entry');
    expect(
      await recordForwarded(ctx.store, first, { atMs: 1, to: 'server-2:api', outcome: 'delivered' }),
    ).toBe(true);
    // A second flusher finds the outcome already there.
    expect(
      await recordForwarded(ctx.store, first, { atMs: 2, to: 'server-2:api', outcome: 'delivered' }),
    ).toBe(false);
    expect((await pendingOutbox(ctx.store)).map((e) => e.body)).toEqual(['m2', 'm3']);
    expect(await outboxCounts(ctx.store)).toEqual({ waiting: 2, delivered: 1, refused: 0 });

    // A crash between the outcome and the removal of the entry: the entry is not sent again.
    const [second] = await pendingOutbox(ctx.store);
    if (!second) throw new Error('no entry');
    const file = path.join(home, 'outbox', 'web', `${second.key}.json`);
    const copy = await fs.readFile(file, 'utf8');
    await recordForwarded(ctx.store, second, {
      atMs: 3,
      to: 'server-2:api',
      outcome: 'refused',
      reason: 'gone',
    });
    await fs.writeFile(file, copy);
    expect((await pendingOutbox(ctx.store)).map((e) => e.body)).toEqual(['m3']);
    await expect(fs.stat(file)).rejects.toThrow();
  });

  it('INV-LIMITS: remote sends count against the same per-session limit as local ones, and bodies are checked first', async () => {
    const ctx = context({ RELAY_RATE_LIMIT: '2' });
    await enqueueRemote(ctx, { machine: 'server-2', name: 'api' }, { body: 'one', type: 'info' });
    await enqueueRemote(ctx, { name: 'api' }, { body: 'two', type: 'info' });
    const limited = await refusal(
      enqueueRemote(ctx, { machine: 'server-2', name: 'api' }, { body: 'three', type: 'info' }),
    );
    expect(limited.code).toBe('rate_limited');
    expect((await refusal(enqueueRemote(ctx, { name: 'api' }, { body: '', type: 'info' }))).code).toBe(
      'bad_input',
    );
    const big = 'x'.repeat(1_000_001);
    expect((await refusal(enqueueRemote(ctx, { name: 'api' }, { body: big, type: 'info' }))).code).toBe(
      'too_large',
    );
    expect((await pendingOutbox(ctx.store)).length).toBe(2);
  });
});

describe('importing polled mail', () => {
  it('INV-REMOTE-ONCE: a message handed out twice (a lost ack) is written and delivered once, with its origin', async () => {
    const ctx = context({ RELAY_SESSION_NAME: 'api' });
    const leased: LeasedMessage = {
      key: '1795812553298-00000000-kudg7c',
      id: 'kudg7c',
      from: 'web',
      fromMachine: 'server-2',
      to: 'api',
      type: 'request',
      body: 'hello',
      sentAt: Date.now(),
      ttlMs: 600_000,
      ack: 'token',
    };
    expect(await importRemote(ctx, 'api', leased)).toBe(true);
    expect(await importRemote(ctx, 'api', leased)).toBe(false);
    const first = await pollInbox(ctx, { via: 'poll' });
    expect(first.messages).toEqual([
      expect.objectContaining({
        remoteKey: leased.key,
        id: leased.id,
        origin: 'server-2',
        machine: 'server-2',
        from: 'web',
      }),
    ]);
    // Handed out again after it was delivered here: not delivered again.
    expect(await importRemote(ctx, 'api', leased)).toBe(false);
    expect((await pollInbox(ctx, { via: 'poll' })).messages).toEqual([]);
  });
});
