/**
 * Text printed for a person at a terminal. A body, a session name or a directory comes from someone else:
 * a raw ESC, C0 or C1 control character could move the cursor back over the indent and draw a forged
 * header, and a bidirectional override could reorder what is shown. Each is printed as a visible escape
 * (`\x1b`, `\u202e`); line breaks that the formatting itself put in stay.
 */
const BIDI_AND_BREAKS = new Set([0x61c, 0x200e, 0x200f, 0x2028, 0x2029]);

function isControl(code: number): boolean {
  if (code === 0x0a) return false;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    BIDI_AND_BREAKS.has(code) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

export function forTerminal(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (!isControl(code)) out += c;
    else if (code < 0x100) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}
