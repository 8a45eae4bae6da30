import { countTokens, getTokenizer } from '@anthropic-ai/tokenizer';

/**
 * Token counts with `@anthropic-ai/tokenizer`. Its `countTokens` builds a new tokenizer for every call
 * (~60 ms here); this keeps one and encodes exactly as `countTokens` does (NFKC, all special tokens
 * allowed). `checkTokenizer` proves the two agree before any figure is counted.
 */
let encoder: ReturnType<typeof getTokenizer> | undefined;

export function tokens(text: string): number {
  encoder ??= getTokenizer();
  return encoder.encode(text.normalize('NFKC'), 'all').length;
}

export function checkTokenizer(sample: string): void {
  const ours = tokens(sample);
  const theirs = countTokens(sample);
  if (ours !== theirs) throw new Error(`token counter disagrees with countTokens: ${ours} vs ${theirs}`);
}

export function freeTokenizer(): void {
  encoder?.free();
  encoder = undefined;
}
