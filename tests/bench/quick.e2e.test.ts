import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figureKeys, isProduced, QUICK_SIZES } from '../../bench/figures.js';

/**
 * `npm run bench -- --quick` must keep working: run it once into a temp dir and check that every figure
 * was produced (a number, or the explicit not-built marker). Its values are never checked: benchmarks
 * measure, tests assert behaviour.
 */
const run = promisify(execFile);
const RUNNER = fileURLToPath(new URL('../../build/bench/run.js', import.meta.url));

interface Results {
  quick: boolean;
  sizes: number[];
  figures: Record<string, { label: string; value: unknown; bar?: { met: unknown; verdict: unknown } }>;
}

describe('npm run bench -- --quick', () => {
  let out: string;
  let results: Results;
  let markdown: string;
  let stdout: string;

  beforeAll(async () => {
    // Given the built bench (npm test builds before it runs vitest)
    expect(existsSync(RUNNER), `${RUNNER} is missing: run npm run build first`).toBe(true);
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'claude-relay-bench-test-'));
    // When the quick bench runs once into a temp dir
    const result = await run(process.execPath, [RUNNER, '--quick', '--out', out], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 170_000,
    });
    stdout = result.stdout;
    const files = await fs.readdir(out);
    const json = files.find((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f));
    expect(json, `no <date>.json among ${files.join(', ')}`).toBeDefined();
    results = JSON.parse(await fs.readFile(path.join(out, json as string), 'utf8')) as Results;
    markdown = await fs.readFile(path.join(out, 'latest.md'), 'utf8');
  }, 180_000);

  afterAll(async () => {
    if (out) await fs.rm(out, { recursive: true, force: true });
  });

  it('then it ran at the quick sizes', () => {
    expect(results.quick).toBe(true);
    expect(results.sizes).toEqual([...QUICK_SIZES]);
  });

  it('then every figure of the catalogue was produced: a number or "not built yet"', () => {
    const missing = figureKeys(QUICK_SIZES).filter((key) => !isProduced(results.figures[key]?.value));
    expect(missing.map((key) => `${key}: ${JSON.stringify(results.figures[key]?.value)}`)).toEqual([]);
  });

  it('then every bar carries a verdict', () => {
    for (const [key, figure] of Object.entries(results.figures)) {
      if (figure.bar === undefined) continue;
      expect(typeof figure.bar.met, key).toBe('boolean');
      expect(figure.bar.verdict, key).toMatch(/^(met|missed by) /);
    }
  });

  it('then latest.md and stdout hold the same table, one row a figure', () => {
    expect(stdout).toBe(markdown);
    for (const key of figureKeys(QUICK_SIZES)) {
      const label = results.figures[key]?.label ?? key;
      expect(markdown, key).toContain(`| ${label.replace(/\|/g, '\\|')} |`);
    }
  });
});
