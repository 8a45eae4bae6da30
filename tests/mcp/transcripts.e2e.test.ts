import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { serve } from '../support/processes.js';
import type { Served } from '../support/stdio.js';
import { loadTranscripts, Placeholders, type Transcript } from '../support/transcript.js';

const transcripts = await loadTranscripts();

/**
 * Replays each golden transcript against real `claude-relay serve` processes over stdio: one process per
 * session, one shared temp RELAY_HOME, HOME set to a temp folder so working directories show as `~/…`.
 */
async function replay(transcript: Transcript): Promise<void> {
  const root = await tempDir('relay-e2e-');
  const home = path.join(root, 'home');
  const relayHome = path.join(root, 'relay');
  const placeholders = new Placeholders();
  placeholders.path(relayHome, '<home>');
  placeholders.path(root, '<tmp>');
  const sessions = new Map<string, Served>();
  const start = async (label: string) => {
    const spec = transcript.sessions[label];
    if (!spec) throw new Error(`no session "${label}"`);
    const cwd = path.join(home, spec.cwd);
    await fs.mkdir(cwd, { recursive: true });
    const served = await serve({
      home: relayHome,
      name: spec.name ?? label,
      cwd,
      env: { HOME: home, ...spec.env },
    });
    placeholders.pid(served.pid, label);
    sessions.set(label, served);
  };
  // Sessions asking for distinct names start at once; one asking for a name already asked for starts
  // after, in the listed order, since the order decides who gets a contested name.
  const asked = new Set<string>();
  const first: string[] = [];
  const later: string[] = [];
  for (const [label, spec] of Object.entries(transcript.sessions)) {
    const name = spec.name ?? label;
    (asked.has(name) ? later : first).push(label);
    asked.add(name);
  }
  await Promise.all(first.map(start));
  for (const label of later) await start(label);

  for (const [i, step] of transcript.steps.entries()) {
    const where = `step ${i + 1} (${step.session} ${step.tool})`;
    const served = sessions.get(step.session);
    if (!served) throw new Error(`${where}: no session "${step.session}" in the transcript`);
    if (step.tool === '$close') {
      await served.close();
      continue;
    }
    if (step.tool === 'tools/list') {
      const { tools } = await served.client.listTools();
      expect(tools, where).toEqual(step.expect);
      continue;
    }
    const args = placeholders.substitute(step.arguments ?? {}) as Record<string, unknown>;
    const answer = await served.call(step.tool, args);
    expect(placeholders.normalise(answer.text), where).toBe(step.expect);
    expect(answer.isError, `${where}: isError`).toBe(step.isError ?? false);
  }
}

describe('golden MCP transcripts (spec/transcripts) over real stdio', () => {
  it('the transcripts are there', () => {
    expect(transcripts.map((t) => t.file).length).toBeGreaterThanOrEqual(5);
  });

  for (const { file, transcript } of transcripts) {
    it(`${file}: ${transcript.title}`, () => replay(transcript));
  }
});
