import { FakeMessagingSocket } from '../tests/support/native-socket.js';
import { type BenchContext, reps } from './context.js';
import type { Beside, Figures } from './figures.js';
import { monoMs, timing } from './stats.js';
import { allStarted, callOk, type Served, startServe } from './stdio.js';
import { tokens } from './tokenize.js';
import { BODIES, SENDER } from './tokens.js';

/**
 * Native push (Claude Code's messaging socket), against a stand-in socket that reads posts as Claude Code
 * 2.1.332 does: what a pushed message costs beyond its body (our text, before Claude Code's own wrapper), and
 * send → post read by the socket, with the sender and the receiver in two `serve` processes.
 */
const BODY = BODIES[0];

async function nextPost(fake: FakeMessagingSocket, marker: string, timeoutMs = 10_000): Promise<number> {
  const deadline = monoMs() + timeoutMs;
  for (;;) {
    const post = fake.posts.find((p) => p.text.includes(marker));
    if (post) return post.atMs;
    if (monoMs() > deadline) throw new Error(`no post with ${JSON.stringify(marker)} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Called by the latency phase, with its raw durable write to show beside. */
export async function measureNative(ctx: BenchContext, beside: Beside): Promise<Figures> {
  const runs = reps(ctx, 200, 10);
  const root = await ctx.tmp.make('native');
  const fake = await FakeMessagingSocket.start(root);
  const store = `${root}/store`;
  const env = { RELAY_RATE_LIMIT: '1000000', RELAY_PUSH: 'off' };
  const started: Served[] = [];
  try {
    const both = await allStarted([
      startServe({ store, name: SENDER, env }),
      startServe({ store, name: 'native', env: { RELAY_RATE_LIMIT: '1000000', ...fake.env } }),
    ]);
    started.push(...both);
    const [sender] = both;
    ctx.progress(`native: ${runs} sends, each until the socket read its post`);
    await callOk(sender, 'relay_send', { to: 'native', message: BODY });
    await nextPost(fake, BODY);
    const text = fake.posts.find((p) => p.text.includes(BODY))?.text ?? '';
    const visible: number[] = [];
    for (let i = 0; i < runs; i++) {
      const marker = `ping ${i}`;
      const t0 = monoMs();
      await callOk(sender, 'relay_send', { to: 'native', message: marker });
      visible.push((await nextPost(fake, marker)) - t0);
    }
    return {
      'tokens.native.message': {
        label: `native push: one message as posted, beyond the body (sender "${SENDER}"; Claude Code adds its own wrapper)`,
        unit: 'tokens',
        value: tokens(text) - tokens(BODY),
        note: `counted on ${JSON.stringify(text)}`,
      },
      'latency.sendToNative': timing(
        'send → post read by the messaging socket (native push, another serve)',
        visible,
        beside,
      ),
    };
  } finally {
    for (const s of started) await s.close().catch(() => {});
    await fake.close();
    await ctx.tmp.remove(root);
  }
}
