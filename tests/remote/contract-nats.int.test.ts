import { NatsBackend } from '../../src/remote/backends/nats.js';
import { NATS_URL, uniquePrefix } from '../support/remote.js';
import { backendContract } from './contract.js';

// Each test gets its own stream and bucket names on the shared NATS server, and removes them after.
backendContract('nats (JetStream)', async ({ leaseMs }) => {
  const options = { url: NATS_URL, prefix: uniquePrefix(), liveWindowMs: 120_000, leaseMs };
  const backend = await NatsBackend.open(options);
  const peers: NatsBackend[] = [];
  return {
    backend,
    peer: async () => {
      const p = await NatsBackend.open(options);
      peers.push(p);
      return p;
    },
    teardown: async () => {
      await backend.destroy();
      for (const b of [backend, ...peers]) await b.close();
    },
  };
});
