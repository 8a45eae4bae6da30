import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Store } from '../log/store.js';
import { TEMP_AGE_MS } from '../log/temp.js';
import type { RelayConfig } from './config.js';
import { deliverByHook } from './hook.js';
import { randomId } from './ids.js';
import { NATIVE_SOCKET_ENV, nativeInboxFromEnv, postNative } from './native-inbox.js';
import { keyRefusal } from './remote/status.js';
import { RelaySession } from './serve-session.js';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** A failed check that delivery does not depend on (no hooks: mail still arrives by poll). */
  readonly advisory?: boolean;
  readonly detail: string;
  /** What to do when the check failed. */
  readonly fix?: string;
}

async function checkStore(config: RelayConfig, store: Store): Promise<Check> {
  try {
    await store.temp.probe(`doctor-${randomId(8)}.json`);
    return { name: 'store', ok: true, detail: `${config.root} is writable (atomic create, fsync, link)` };
  } catch (e) {
    return {
      name: 'store',
      ok: false,
      detail: `${config.root} is not writable: ${(e as Error).message}`,
      fix: 'fix the permissions or free disk space, or point RELAY_HOME at a writable directory',
    };
  }
}

async function checkClock(store: Store): Promise<Check> {
  const ahead = (await store.newestSentStampMs()) - Date.now();
  if (ahead <= 1000)
    return { name: 'clock', ok: true, detail: 'the wall clock is not behind any stamp in the store' };
  return {
    name: 'clock',
    ok: false,
    detail: `the store holds a stamp ${Math.round(ahead / 1000)}s ahead of this clock; order still holds (stamps only grow), but ages and expiry are off`,
    fix: 'check the system time (timedatectl, or your NTP client)',
  };
}

async function checkTemp(store: Store): Promise<Check> {
  const stray = (await store.temp.old(Date.now(), TEMP_AGE_MS).catch(() => [])).length;
  if (stray === 0) return { name: 'temp files', ok: true, detail: 'no stray temporary files' };
  return {
    name: 'temp files',
    ok: false,
    detail: `${stray} temporary file(s) left by interrupted writes`,
    fix: 'run claude-relay clean',
  };
}

/**
 * Sends a canary to a throw-away session and takes it back through each delivery path that needs no
 * client: a poll, a long-poll woken by the send, and a hook event.
 */
async function checkCanary(config: RelayConfig): Promise<Check[]> {
  // Local only: a canary that heartbeated the relay would stay known there for good.
  const { remote: _relay, ...local } = config;
  const session = await RelaySession.start({ config: local, name: `doctor-${randomId(6)}` });
  const checks: Check[] = [];
  try {
    const sent = await session.send({ to: session.name, message: 'canary' });
    const polled = await session.poll({ via: 'cli' });
    const viaPoll = polled.messages.some((m) => m.key === sent.event.key);
    checks.push({
      name: 'canary: poll',
      ok: viaPoll,
      detail: viaPoll ? `sent to and taken by ${session.name}` : 'the canary did not come back',
      ...(viaPoll
        ? {}
        : { fix: 'run claude-relay status; check that RELAY_HOME is one directory for all sessions' }),
    });

    const started = Date.now();
    const waiting = session.longPoll({ waitMs: 5000 });
    const second = await session.send({ to: session.name, message: 'canary' });
    const woken = await waiting;
    await woken.commit();
    const woke = woken.messages.some((m) => m.key === second.event.key);
    checks.push({
      name: 'canary: long-poll',
      ok: woke,
      detail: woke
        ? `woke ${Date.now() - started} ms after the wait began`
        : 'the wait ended without the canary',
      ...(woke ? {} : { fix: 'the file system may not support watching; polls still work every second' }),
    });

    const third = await session.send({ to: session.name, message: 'canary' });
    const delivery = await deliverByHook(session.ctx, { hook_event_name: 'UserPromptSubmit' }, (ms) =>
      ms.map((m) => m.key).join(','),
    );
    await delivery?.take.commit();
    const out = delivery?.output;
    const viaHook =
      out !== undefined &&
      'hookSpecificOutput' in out &&
      out.hookSpecificOutput.additionalContext.includes(third.event.key);
    checks.push({
      name: 'canary: hook',
      ok: viaHook,
      detail: viaHook
        ? 'a hook event would deliver it as additionalContext'
        : 'the hook path did not deliver it',
    });
  } finally {
    await session.stop();
    // A doctor run leaves nothing behind: its throw-away session's folders go (status would list it).
    await session.ctx.store.removeScratchSession(session.name);
  }
  return checks;
}

/**
 * Inside a Claude Code session (2.1.224+) the socket variables are set: a canary goes the whole native way,
 * taken via native, posted, and consumed once the socket read it. It reaches the model running doctor too.
 */
async function checkNative(config: RelayConfig, env: NodeJS.ProcessEnv): Promise<Check> {
  const inbox = nativeInboxFromEnv(env);
  if (!inbox)
    // Nothing is wrong outside Claude Code: the check does not apply, and says so.
    return {
      name: 'native inbox',
      ok: true,
      detail: `not available here (${NATIVE_SOCKET_ENV} is unset: this is not a process of a Claude Code 2.1.224+ session); run doctor from inside one to check it`,
    };
  const session = await RelaySession.start({ config, name: `doctor-${randomId(6)}` });
  try {
    const sent = await session.send({ to: session.name, message: 'canary' });
    const take = await session.take({ via: 'native' });
    try {
      await postNative(
        inbox,
        `claude-relay doctor: a canary through the native inbox (#${sent.event.id}); nothing to do.`,
      );
    } catch (e) {
      await take.release();
      return {
        name: 'native inbox',
        ok: false,
        detail: `the socket refused the canary: ${(e as Error).message}`,
        fix: 'update Claude Code, or set RELAY_PUSH=notify; mail still arrives by hooks and polls',
      };
    }
    await take.commit();
    const settled = await session.ctx.store.readSettled(session.name, sent.event.key);
    const ok = settled?.kind === 'consumed' && settled.via === 'native';
    return {
      name: 'native inbox',
      ok,
      detail: ok
        ? `${inbox.socket} accepted a canary; messages reach the model by themselves`
        : 'the canary was posted but not recorded as delivered via native',
    };
  } finally {
    await session.stop();
  }
}

async function checkHooksInstalled(home: string): Promise<Check> {
  const file = path.join(home, '.claude', 'settings.json');
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const installed = /claude-relay|claude-session-relay|cli\/main\.js/.test(text) && text.includes(' hook');
  return installed
    ? { name: 'Claude Code hooks', ok: true, detail: `registered in ${file}` }
    : {
        name: 'Claude Code hooks',
        ok: false,
        advisory: true,
        detail: `not registered in ${file}: unread mail waits until the model polls`,
        fix: 'run claude-relay install',
      };
}

async function checkRemote(config: RelayConfig, env: NodeJS.ProcessEnv): Promise<Check | undefined> {
  const url = env.RELAY_REMOTE_URL;
  if (!url) return undefined;
  try {
    const res = await fetch(new URL('health', url.endsWith('/') ? url : `${url}/`), {
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) {
      return {
        name: 'remote relay',
        ok: false,
        detail: `${url}/health answered ${res.status}`,
        fix: 'check RELAY_REMOTE_URL and the relay server log',
      };
    }
    // /health needs no key: only an authenticated call tells a wrong or revoked key from a good one.
    const refused = config.remote ? await keyRefusal(config.remote) : 'RELAY_API_KEY is not set';
    if (refused === undefined)
      return { name: 'remote relay', ok: true, detail: `${url} answers and accepts this machine's API key` };
    return {
      name: 'remote relay',
      ok: false,
      detail: `${url} answers, but ${refused}`,
      fix: 'ask the relay operator for a key for this machine (claude-relay relay keys add <machine>) and set RELAY_API_KEY',
    };
  } catch (e) {
    return {
      name: 'remote relay',
      ok: false,
      detail: `${url} is not reachable (${(e as Error).message})`,
      fix: 'start the relay, or check RELAY_REMOTE_URL and the network',
    };
  }
}

export async function runChecks(config: RelayConfig, env: NodeJS.ProcessEnv, home: string): Promise<Check[]> {
  const store = new Store(config.root);
  const checks: Check[] = [await checkStore(config, store)];
  if (!checks[0]?.ok) return checks;
  checks.push(await checkClock(store), await checkTemp(store));
  checks.push({
    name: 'identity',
    ok: true,
    detail: `a session started here is named "${config.desiredName}"${config.nameFromEnv ? ' (RELAY_SESSION_NAME)' : ' (this directory)'} on machine "${config.machine}"`,
  });
  checks.push(...(await checkCanary(config)));
  checks.push(await checkNative(config, env));
  checks.push(await checkHooksInstalled(home));
  const remote = await checkRemote(config, env);
  if (remote) checks.push(remote);
  return checks;
}
