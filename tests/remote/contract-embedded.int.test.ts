import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedBackend } from '../../src/remote/backends/embedded.js';
import { backendContract } from './contract.js';

backendContract('embedded (the event log)', async ({ leaseMs }) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-embedded-'));
  const options = { liveWindowMs: 120_000, leaseMs };
  const backend = new EmbeddedBackend(dir, options);
  const peers: EmbeddedBackend[] = [];
  return {
    backend,
    peer: async () => {
      const p = new EmbeddedBackend(dir, options);
      peers.push(p);
      return p;
    },
    teardown: async () => {
      for (const b of [backend, ...peers]) await b.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});
