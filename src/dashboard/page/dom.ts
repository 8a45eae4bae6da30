/** Building the page's nodes (text and attributes only, never markup) and the way it writes times and paths. */

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { text?: string; cls?: string; title?: string; data?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.cls !== undefined) node.className = props.cls;
  if (props.title !== undefined) node.title = props.title;
  for (const [k, v] of Object.entries(props.data ?? {})) node.dataset[k] = v;
  node.append(...children);
  return node;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d`;
}

export function deliveryText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : duration(ms);
}

export function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/** The end of a long path, which tells directories apart; the whole path is in the cell's title. */
export function shortPath(p: string): string {
  return p.length > 28 ? `…${p.slice(-27)}` : p;
}

export function empty(text: string): HTMLElement {
  return el('div', { cls: 'empty', text });
}
