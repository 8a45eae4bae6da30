import type { KV } from '@nats-io/kv';
import { presenceOf } from '../convert.js';
import { type HeartbeatBody, type Presence, PresenceSchema, safeJson } from '../protocol.js';
import type { NatsNames } from './nats-names.js';

/**
 * Presence on a NATS KV bucket whose TTL is the liveness window: a heartbeat is a put of the session's
 * `Presence`, a session that stops heartbeating ages out by itself, and a leave deletes its key.
 */
export class NatsPresence {
  constructor(
    private readonly kv: KV,
    private readonly names: NatsNames,
    private readonly liveWindowMs: number,
    private readonly now: () => number,
  ) {}

  async put(machine: string, name: string, beat: HeartbeatBody): Promise<void> {
    const presence = presenceOf({ ...beat, machine, name, atMs: Math.floor(this.now()) });
    await this.kv.put(this.names.presenceKey(machine, name), JSON.stringify(presence));
  }

  private async get(key: string): Promise<Presence | undefined> {
    const entry = await this.kv.get(key);
    if (entry?.operation !== 'PUT') return undefined;
    const parsed = PresenceSchema.safeParse(safeJson(entry.string()));
    if (!parsed.success || this.now() - parsed.data.lastSeen > this.liveWindowMs) return undefined;
    return parsed.data;
  }

  /** Another window may hold the same name on this machine: only its own instance's leave removes it. */
  async leave(machine: string, name: string, instance: string): Promise<void> {
    const key = this.names.presenceKey(machine, name);
    if ((await this.get(key))?.instance === instance) await this.kv.delete(key);
  }

  async live(machine: string, name: string): Promise<boolean> {
    return (await this.get(this.names.presenceKey(machine, name))) !== undefined;
  }

  async list(): Promise<Presence[]> {
    const out: Presence[] = [];
    for await (const key of await this.kv.keys()) {
      const presence = await this.get(key);
      if (presence) out.push(presence);
    }
    return out.sort((a, b) => a.machine.localeCompare(b.machine) || a.name.localeCompare(b.name));
  }
}
