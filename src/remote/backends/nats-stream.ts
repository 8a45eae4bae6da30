import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type NatsNames, nanos } from './nats-names.js';

/**
 * The JetStream objects the NATS backend keeps messages in: one work-queue stream for every inbox, and per
 * session a durable pull consumer with explicit acks, whose `ack_wait` is the lease.
 */
export function isApi(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

/** Makes the message stream unless it is there already. */
export async function ensureStream(
  jsm: JetStreamManager,
  names: NatsNames,
  duplicateWindowMs: number,
): Promise<void> {
  try {
    await jsm.streams.info(names.stream);
  } catch (e) {
    if (!isApi(e, JetStreamApiCodes.StreamNotFound)) throw e;
    await jsm.streams.add({
      name: names.stream,
      subjects: [names.subjects],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(duplicateWindowMs),
    });
  }
}

/** The durable consumer of one session's inbox. */
export function consumerConfig(
  names: NatsNames,
  machine: string,
  name: string,
  leaseMs: number,
): Partial<ConsumerConfig> {
  return {
    durable_name: names.consumer(machine, name),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: names.subject(machine, name),
    ack_wait: nanos(leaseMs),
    max_deliver: -1,
  };
}
