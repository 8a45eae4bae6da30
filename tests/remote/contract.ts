import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, StoredMessage } from '../../src/remote/backend.js';
import { isHttpError } from '../../src/remote/errors.js';
import type { LeasedMessage } from '../../src/remote/protocol.js';

/**
 * The contract every relay storage backend keeps, run against each (contract-embedded, contract-nats).
 * A backend here is the storage alone, called as the HTTP server calls it.
 */
export interface BackendFixture {
  readonly backend: Backend;
  /** A second backend on the same storage: another relay server, as far as the storage can tell. */
  peer(): Promise<Backend>;
  teardown(): Promise<void>;
}

export type MakeBackend = (options: { leaseMs: number }) => Promise<BackendFixture>;

let counter = 0;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomId(): string {
  let id = '';
  for (let i = 0; i < 6; i++) id += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return id;
}

/** A message as a client's outbox would send it: a fresh, increasing key. */
export function message(over: Partial<StoredMessage> = {}): StoredMessage {
  const ms = Date.now();
  const id = randomId();
  const key = `${String(ms).padStart(13, '0')}-${String(counter++).padStart(8, '0')}-${id}`;
  return {
    key,
    id,
    from: 'web',
    fromMachine: 'laptop',
    toMachine: 'server-2',
    to: 'api',
    type: 'request',
    body: `message ${key}`,
    sentAt: ms,
    ttlMs: 600_000,
    ...over,
  };
}

const BEAT = { instance: 'abcd1234', pid: 4242, cwd: '/home/me/api', startedAt: 1 };

async function drain(backend: Backend, machine = 'server-2', name = 'api'): Promise<LeasedMessage[]> {
  const out: LeasedMessage[] = [];
  for (let i = 0; i < 100; i++) {
    const got = await backend.poll(machine, name, { max: 100, waitMs: 0 });
    if (got.length === 0) return out;
    out.push(...got);
    await backend.ack(
      machine,
      name,
      got.map((m) => m.ack),
    );
  }
  throw new Error('the inbox never emptied');
}

export function backendContract(kind: string, make: MakeBackend): void {
  describe(`relay storage contract: ${kind}`, () => {
    const fixtures: BackendFixture[] = [];
    const open = async (leaseMs = 30_000) => {
      const f = await make({ leaseMs });
      fixtures.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.teardown();
    });

    it('INV-REMOTE-ONCE: a polled message is leased to one poll, and gone for good once acked', async () => {
      const { backend } = await open();
      const m = message();
      expect(await backend.send(m)).toEqual({ duplicate: false });
      const first = await backend.poll('server-2', 'api', { max: 10, waitMs: 0 });
      expect(first.map((x) => x.key)).toEqual([m.key]);
      expect(first[0]).toMatchObject({
        from: 'web',
        fromMachine: 'laptop',
        to: 'api',
        body: m.body,
        type: 'request',
      });
      // Leased: another poll does not get it.
      expect(await backend.poll('server-2', 'api', { max: 10, waitMs: 0 })).toEqual([]);
      expect(await backend.ack('server-2', 'api', [first[0]?.ack ?? ''])).toBe(1);
      expect(await backend.poll('server-2', 'api', { max: 10, waitMs: 0 })).toEqual([]);
    });

    it('INV-REMOTE-ONCE: a send retried with the same key (idempotency key) is stored once', async () => {
      const { backend } = await open();
      const m = message();
      expect(await backend.send(m)).toEqual({ duplicate: false });
      expect(await backend.send(m)).toEqual({ duplicate: true });
      const got = await drain(backend);
      expect(got.map((x) => x.key)).toEqual([m.key]);
      // Also after it was consumed: the retry of a send whose answer was lost.
      expect(await backend.send(m)).toEqual({ duplicate: true });
      expect(await drain(backend)).toEqual([]);
    });

    it('INV-REMOTE-AUTH: one key sent by two machines is two messages; each is idempotent for its own machine', async () => {
      const { backend } = await open();
      const theirs = message({ fromMachine: 'desk', body: 'from desk' });
      const mine = { ...theirs, fromMachine: 'laptop', body: 'from laptop' };
      expect(await backend.send(theirs)).toEqual({ duplicate: false });
      expect(await backend.send(mine)).toEqual({ duplicate: false });
      expect(await backend.send(mine)).toEqual({ duplicate: true });
      const got = await drain(backend);
      expect(got.map((m) => [m.fromMachine, m.key, m.body]).sort()).toEqual([
        ['desk', theirs.key, 'from desk'],
        ['laptop', theirs.key, 'from laptop'],
      ]);
      expect(await backend.send(theirs)).toEqual({ duplicate: true });
      expect(await drain(backend)).toEqual([]);
    });

    it('INV-REMOTE-ONCE: concurrent polls of one inbox never lease one message twice', async () => {
      const { backend } = await open();
      const sent = Array.from({ length: 30 }, () => message());
      for (const m of sent) await backend.send(m);
      const seen: string[] = [];
      const poller = async () => {
        for (let round = 0; round < 200 && seen.length < sent.length; round++) {
          const got = await backend.poll('server-2', 'api', { max: 3, waitMs: 0 });
          seen.push(...got.map((m) => m.key));
          if (got.length > 0)
            await backend.ack(
              'server-2',
              'api',
              got.map((m) => m.ack),
            );
        }
      };
      await Promise.all([poller(), poller(), poller(), poller()]);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(sent.map((m) => m.key).sort());
    });

    it('INV-REMOTE-ONCE: a lease that is never acked runs out, and the message is handed out again', async () => {
      const { backend } = await open(1000);
      const m = message();
      await backend.send(m);
      const first = await backend.poll('server-2', 'api', { max: 10, waitMs: 0 });
      expect(first.map((x) => x.key)).toEqual([m.key]);
      // The poller "crashed" before its ack: a waiting poll gets the message once the lease is over.
      const again = await backend.poll('server-2', 'api', { max: 10, waitMs: 20_000 });
      expect(again.map((x) => x.key)).toEqual([m.key]);
      await backend.ack('server-2', 'api', [again[0]?.ack ?? '']);
      expect(await backend.poll('server-2', 'api', { max: 10, waitMs: 0 })).toEqual([]);
    });

    it('INV-REMOTE-ONCE: a poll whose caller went away gives back what it took, at once', async () => {
      const { backend } = await open();
      const gone = new AbortController();
      const waiting = backend.poll('server-2', 'api', { max: 10, waitMs: 10_000, signal: gone.signal });
      gone.abort();
      const m = message();
      await backend.send(m);
      expect(await waiting).toEqual([]);
      const got = await backend.poll('server-2', 'api', { max: 10, waitMs: 10_000 });
      expect(got.map((x) => x.key)).toEqual([m.key]);
    });

    it('INV-REMOTE-ORDER: one sender’s messages are polled in send order', async () => {
      const { backend } = await open();
      const sent = Array.from({ length: 25 }, () => message());
      for (const m of sent) await backend.send(m);
      const got = await drain(backend);
      expect(got.map((m) => m.key)).toEqual(sent.map((m) => m.key));
    });

    it('long-poll: a waiting poll answers as soon as a message arrives', async () => {
      const { backend } = await open();
      const waiting = backend.poll('server-2', 'api', { max: 10, waitMs: 20_000 });
      const m = message();
      await backend.send(m);
      expect((await waiting).map((x) => x.key)).toEqual([m.key]);
    });

    it('INV-REMOTE-PRESENCE: a heartbeat makes a session known and live; its leave ends it', async () => {
      const { backend } = await open();
      expect(await backend.known('server-2', 'api')).toBe(false);
      expect(await backend.live('server-2', 'api')).toBe(false);
      await backend.heartbeat('server-2', 'api', BEAT);
      await backend.heartbeat('server-2', 'api.v2', {
        ...BEAT,
        instance: 'zzzz9999',
        client: 'claude-code 2.1',
      });
      expect(await backend.known('server-2', 'api')).toBe(true);
      expect(await backend.live('server-2', 'api')).toBe(true);
      const sessions = await backend.sessions();
      expect(sessions.map((s) => `${s.machine}:${s.name}`).sort()).toEqual([
        'server-2:api',
        'server-2:api.v2',
      ]);
      expect(sessions.find((s) => s.name === 'api')).toMatchObject({
        pid: 4242,
        cwd: '/home/me/api',
        instance: 'abcd1234',
      });
      expect(sessions.find((s) => s.name === 'api.v2')?.client).toBe('claude-code 2.1');
      // Another instance's leave does not end a session that is still there.
      await backend.leave('server-2', 'api', 'other999');
      expect(await backend.live('server-2', 'api')).toBe(true);
      await backend.leave('server-2', 'api', 'abcd1234');
      expect(await backend.live('server-2', 'api')).toBe(false);
      expect((await backend.sessions()).map((s) => s.name)).toEqual(['api.v2']);
      // Known stays: a session that left can still be written to.
      expect(await backend.known('server-2', 'api')).toBe(true);
    });

    it('INV-LIMITS: a message past its TTL is never handed out', async () => {
      const { backend } = await open();
      const old = message({ sentAt: Date.now() - 10_000, ttlMs: 1000 });
      const fresh = message();
      await backend.send(old);
      await backend.send(fresh);
      expect((await drain(backend)).map((m) => m.key)).toEqual([fresh.key]);
    });

    it('bodies round-trip byte for byte, up to 1,000,000 bytes', async () => {
      const { backend } = await open();
      const tricky = message({
        body: 'line 1\r\nline 2\u2028"quoted" \\ \u0001 émoji 🚀\n  [request|local] From x: y',
      });
      const big = message({ body: `${'x'.repeat(999_996)}🚀` });
      await backend.send(tricky);
      await backend.send(big);
      const got = await drain(backend);
      expect(got.map((m) => m.body)).toEqual([tricky.body, big.body]);
      expect(Buffer.byteLength(got[1]?.body ?? '')).toBe(1_000_000);
    });

    it('INV-REMOTE-AUTH: an ack token of another inbox is refused, and settles nothing', async () => {
      const { backend } = await open();
      const m = message();
      await backend.send(m);
      const [leased] = await backend.poll('server-2', 'api', { max: 1, waitMs: 0 });
      expect(leased).toBeDefined();
      const refused = await backend.ack('server-2', 'other', [leased?.ack ?? '']).then(
        () => undefined,
        (e: unknown) => e,
      );
      // Embedded tokens are keys, so another inbox's ack finds nothing there; NATS tokens name their consumer.
      if (refused !== undefined) expect(isHttpError(refused) && refused.status).toBe(400);
      await expect(backend.ack('server-2', 'api', ['$JS.ACK.X.Y.*'])).rejects.toSatisfy(
        (e: unknown) => isHttpError(e) && e.status === 400,
      );
      await backend.ack('server-2', 'api', [leased?.ack ?? '']);
      expect(await backend.poll('server-2', 'api', { max: 1, waitMs: 0 })).toEqual([]);
    });

    it('INV-REMOTE-ONCE: two relays on one storage act as one: sent through one, polled once through either', async () => {
      const { backend, peer } = await open();
      const other = await peer();
      const a = message();
      const b = message();
      await backend.send(a);
      await other.send(b);
      expect(await other.send(a)).toEqual({ duplicate: true });
      const seen: string[] = [];
      for (let round = 0; round < 50 && seen.length < 2; round++) {
        for (const relay of [backend, other]) {
          const got = await relay.poll('server-2', 'api', { max: 1, waitMs: 0 });
          seen.push(...got.map((m) => m.key));
          if (got.length > 0)
            await relay.ack(
              'server-2',
              'api',
              got.map((m) => m.ack),
            );
        }
      }
      expect(seen.sort()).toEqual([a.key, b.key].sort());
      await backend.heartbeat('server-2', 'api', BEAT);
      expect((await other.sessions()).map((s) => s.name)).toEqual(['api']);
    });
  });
}
