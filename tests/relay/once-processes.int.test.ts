import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { runCli, serve } from '../support/processes.js';
import type { Served } from '../support/stdio.js';

/** One delivered message, as a poller saw it. */
interface Seen {
  readonly poller: string;
  readonly inbox: string;
  readonly from: string;
  readonly body: string;
}

const LINE = /^ {2}\[(\w+)\|local\] From (\S+): #[a-z0-9]{6} (.*)$/;

/** The messages of one relay_poll answer, in the order shown. */
function parsePoll(text: string): { from: string; body: string }[] {
  if (text === 'No new messages.') return [];
  const out: { from: string; body: string }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const m = LINE.exec(line);
    if (m) out.push({ from: m[2] as string, body: m[3] as string });
    else expect(line).toMatch(/^\(\d+ more waiting: poll again\)$/);
  }
  return out;
}

/** Bodies are `<from>><to>:<n>`: what a message must be, wherever it shows up. */
function sequence(body: string): number {
  return Number(body.split(':')[1]);
}

describe('INV-ONCE across real processes', () => {
  it('INV-ONCE, INV-ORDER: 4 serve processes (two asking for one name) and CLI pollers racing on one inbox deliver each of 280 messages exactly once, in order per sender', async () => {
    const home = await tempDir('relay-once-');
    const fast = { RELAY_RATE_LIMIT: '100000' };
    const [src, dst, other] = await Promise.all([
      serve({ home, name: 'src', env: fast }),
      serve({ home, name: 'dst' }),
      serve({ home, name: 'other', env: fast }),
    ]);
    // Started once `dst` is live, so it is the one that must take another name.
    const twin = await serve({ home, name: 'dst' });
    const renamed = await twin.call('relay_sessions');
    expect(renamed.text.split('\n')[0]).toBe('You are "dst-2": "dst" is held by another live session.');

    const seen: Seen[] = [];
    const acked = new Set<string>();
    const cliPolls: Promise<void>[] = [];
    let stop = false;

    /** INV-ORDER: within one answer, each sender's messages come in the order they were sent. */
    const checkOrder = (messages: { from: string; body: string }[]) => {
      for (const from of ['src', 'other']) {
        const mine = messages.filter((m) => m.from === from).map((m) => sequence(m.body));
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
    };
    /** Each serve takes its own inbox as messages land (relay_poll with wait: woken by the file system). */
    const mcpPoller = async (served: Served, inbox: string) => {
      while (!stop) {
        const answer = await served.call('relay_poll', { wait: 1 });
        expect(answer.isError, answer.text).toBe(false);
        const messages = parsePoll(answer.text);
        for (const m of messages) seen.push({ poller: `mcp:${inbox}`, inbox, ...m });
        checkOrder(messages);
      }
    };
    /** A `claude-relay poll --name` process racing the serve that owns the inbox. */
    const cliTakers = new Set<number>();
    let cliRuns = 0;
    const cliPoll = async (inbox: string) => {
      const run = cliRuns++;
      const r = await runCli(['poll', '--name', inbox, '--json'], { env: { RELAY_HOME: home } });
      expect(r.code, r.stderr).toBe(0);
      const { messages } = JSON.parse(r.stdout) as { messages: { from: string; to: string; body: string }[] };
      for (const m of messages) {
        expect(m.to).toBe(inbox);
        seen.push({ poller: `cli:${inbox}`, inbox, from: m.from, body: m.body });
      }
      if (run < 3 && messages.length > 0) cliTakers.add(run);
      checkOrder(messages);
    };
    /** `count` sends from one session, five at a time as a client's parallel tool calls. */
    const sendAll = async (sender: Served, from: string, count: number, target: (n: number) => string) => {
      for (let n = 0; n < count; n += 5) {
        // While the stream runs, CLI pollers start now and then and race the serves for what has landed.
        if (from === 'src' && n % 20 === 0) cliPolls.push(cliPoll('dst'));
        if (from === 'src' && n % 40 === 20) cliPolls.push(cliPoll('dst-2'));
        const batch = [n, n + 1, n + 2, n + 3, n + 4].filter((i) => i < count);
        const answers = await Promise.all(
          batch.map((i) =>
            sender.call('relay_send', { to: target(i), message: `${from}>${target(i)}:${i}` }),
          ),
        );
        for (const [j, a] of answers.entries()) {
          expect(a.isError, a.text).toBe(false);
          const i = batch[j] as number;
          acked.add(`${from}>${target(i)}:${i}`);
        }
      }
    };

    // First a full inbox and three CLI pollers started together on it, so the race for one inbox between
    // processes is certain to happen rather than left to the timing of the stream below.
    // 120 waiting messages take the pollers far longer to settle than the skew between their start-ups.
    await sendAll(other, 'other', 120, () => 'dst');
    await Promise.all([cliPoll('dst'), cliPoll('dst'), cliPoll('dst')]);
    const pollers = [mcpPoller(dst, 'dst'), mcpPoller(twin, 'dst-2')];
    await sendAll(src, 'src', 160, (i) => (i % 5 === 4 ? 'dst-2' : 'dst'));
    await Promise.all(cliPolls);
    // Bounded: the serves take what is left as it lands; this waits for the count to reach what was sent.
    for (let i = 0; i < 1000 && seen.length < acked.size; i++) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(pollers);

    expect(acked.size).toBe(280);
    const bodies = seen.map((s) => s.body);
    const twice = bodies.filter((b, i) => bodies.indexOf(b) !== i);
    expect(twice, 'INV-ONCE: delivered twice').toEqual([]);
    expect([...bodies].sort(), 'INV-ONCE: every acknowledged message delivered').toEqual([...acked].sort());
    for (const s of seen) {
      expect(s.body.startsWith(`${s.from}>${s.inbox}:`), `${s.body} reached ${s.poller}`).toBe(true);
    }
    // The race was real: the inbox of `dst` was emptied by more than one process.
    const dstPollers = new Set(seen.filter((s) => s.inbox === 'dst').map((s) => s.poller));
    expect(dstPollers.size, `pollers of dst: ${[...dstPollers].join(', ')}`).toBeGreaterThan(1);
    // The three CLI pollers started together on the full inbox took it once between them; which of them
    // got what is up to their start-up skew (a lease costs no fsync), so only that someone did is certain.
    expect(cliTakers.size, 'the CLI pollers took from the full inbox').toBeGreaterThan(0);
  });
});
