import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type Beside, type Figure, type Figures, formatAmount, round } from './figures.js';
import { renderScale, type ScaleRow } from './scale.js';

/** The results of one run: the JSON file as written, and the input of the markdown table. */
export interface BenchResult {
  readonly date: string;
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly durationS: number;
  readonly env: Record<string, string | number>;
  /** In table order. */
  readonly figures: Figures;
  /** The exact texts the token figures counted. */
  readonly texts: Record<string, string>;
  /** The simulated-sessions steps, when run with `--scale`. */
  readonly scale?: readonly ScaleRow[];
}

const GROUPS: ReadonlyArray<readonly [prefix: string, title: string]> = [
  ['tokens.', 'Tokens (per call; counted with @anthropic-ai/tokenizer)'],
  ['idle.', 'Idle cost of waiting for a message'],
  ['latency.', 'Latency'],
  ['throughput.', 'Throughput'],
  ['relay.', 'Across machines (relay server)'],
  ['poll.', 'Poll time as the store grows'],
  ['sessions.', 'Many sessions'],
  ['clean.', 'clean'],
  ['startup.', 'Start-up'],
  ['memory.', 'Memory'],
];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function formatResult(f: Figure): string {
  const main = formatAmount(f.value, f.unit);
  if (f.p99 === undefined) return main;
  return `${main} (p99 ${round(f.p99)}${f.runs === undefined ? '' : `, ${f.runs} runs`})`;
}

function formatBeside(b: Beside | undefined): string {
  if (b === undefined) return '';
  const value = `${b.claim ? '~' : ''}${formatAmount(b.value, b.unit)}`;
  return `${b.label}: ${value}${b.p99 === undefined ? '' : ` (p99 ${round(b.p99)})`}`;
}

export function renderMarkdown(r: BenchResult): string {
  const sizes = r.sizes.map((n) => n.toLocaleString('en-US')).join(', ');
  const lines = [
    `# claude-relay bench, ${r.date}`,
    '',
    `${r.quick ? '`npm run bench -- --quick`' : '`npm run bench`'} in ${Math.round(r.durationS)} s on ` +
      `${r.env.cpus} × ${r.env.cpu} (1-minute load average ${r.env.loadStart} at the start, ${r.env.loadEnd} at the end), ${r.env.os}, ` +
      `Node ${r.env.node}, commit ${r.env.commit}. ` +
      `Store sizes: ${sizes} events.`,
    '',
    'Timings are medians (p99 and run count in brackets), each beside the limit measured in the same run. ' +
      'Token counts use `@anthropic-ai/tokenizer` (the legacy Claude tokenizer: close to, not exactly, what ' +
      'current models count). A bar is reported as met or missed, never asserted.',
    '',
    '| Measurement | Result | Beside it (same run) | Bar | Verdict |',
    '| --- | --- | --- | --- | --- |',
  ];
  const keys = Object.keys(r.figures);
  for (const [prefix, title] of GROUPS) {
    const group = keys.filter((k) => k.startsWith(prefix));
    if (group.length === 0) continue;
    lines.push(`| **${cell(title)}** | | | | |`);
    for (const key of group) {
      const f = r.figures[key] as Figure;
      lines.push(
        `| ${cell(f.label)} | ${cell(formatResult(f))} | ${cell(formatBeside(f.beside))} | ${cell(f.bar?.text ?? '')} | ${cell(f.bar?.verdict ?? '')} |`,
      );
    }
  }
  const missed = keys.filter((k) => r.figures[k]?.bar?.met === false);
  lines.push(
    '',
    `## Bars: ${keys.filter((k) => r.figures[k]?.bar).length - missed.length} met, ${missed.length} missed`,
    '',
  );
  for (const key of missed) {
    const f = r.figures[key] as Figure;
    const beside = f.beside ? `; ${formatBeside(f.beside)}` : '';
    lines.push(`- **${f.label}**: ${formatResult(f)}, bar ${f.bar?.text}: ${f.bar?.verdict}${beside}.`);
    if (f.note) lines.push(`  ${f.note}.`);
  }
  if (r.scale) lines.push(renderScale(r.scale));
  const notes = keys.filter((k) => r.figures[k]?.note && r.figures[k]?.bar?.met !== false);
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const key of notes) lines.push(`- ${r.figures[key]?.label}: ${r.figures[key]?.note}.`);
  }
  return `${lines.join('\n')}\n`;
}

export async function writeResults(r: BenchResult, outDir: string): Promise<{ json: string; md: string }> {
  await fs.mkdir(outDir, { recursive: true });
  const json = path.join(outDir, `${r.date}.json`);
  const md = path.join(outDir, 'latest.md');
  await fs.writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await fs.writeFile(md, renderMarkdown(r));
  return { json, md };
}
