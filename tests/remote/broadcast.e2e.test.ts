import { describe, expect, it } from 'vitest';
import { UNREACHABLE } from '../../src/mcp/tools/sessions.js';
import { tempDir } from '../support/cleanup.js';
import { addKey, pollLines, serveAs, serveMachine, startRelay } from '../support/remote.js';
import type { Served } from '../support/stdio.js';
import { waitFor } from '../support/wait.js';

/** relay_broadcast and relay_sessions with a relay configured, across two machines, real processes. */

async function lists(served: Served, address: string): Promise<void> {
  await waitFor(`${address} to be listed`, async () =>
    (await served.call('relay_sessions')).text.includes(`- ${address} — `) ? true : undefined,
  );
}

describe('broadcast and sessions across machines', () => {
  it('relay_broadcast reaches every live session of every machine once; relay_sessions says when the relay is unreachable', async () => {
    const data = await tempDir();
    const laptop = await addKey(data, 'laptop');
    const server = await addKey(data, 'server-2');
    const relay = await startRelay({ data });
    const webHome = await tempDir();
    const web = await serveAs('web', relay.url, laptop, { home: webHome });
    const docs = await serveMachine({
      home: webHome,
      name: 'docs',
      machine: 'laptop',
      url: relay.url,
      key: laptop,
    });
    const api = await serveAs('api', relay.url, server);
    await lists(web, 'server-2:api');

    const sent = await web.call('relay_broadcast', { message: 'freeze at noon' });
    expect(sent.text).toBe('Sent to 2 session(s): docs, server-2:api.');
    expect(await pollLines(docs, 1)).toEqual([
      expect.stringMatching(/^ {2}\[info\|local\] From web: #[a-z0-9]{6} freeze at noon$/),
    ]);
    expect(await pollLines(api, 1)).toEqual([
      expect.stringMatching(/^ {2}\[info\|laptop\] From web: #[a-z0-9]{6} freeze at noon$/),
    ]);
    expect((await web.call('relay_poll')).text).toBe('No new messages.');

    await relay.child.stop('SIGKILL');
    const listed = await web.call('relay_sessions');
    expect(listed.text.split('\n').at(-1)).toBe(UNREACHABLE);
    expect(listed.text).toContain('- docs — ');
    const cut = await web.call('relay_broadcast', { message: 'still here' });
    expect(cut.text).toBe('Sent to 1 session(s): docs.\nRelay unreachable: other machines not reached.');
  });
});
