/**
 * The live name a mistyped one most likely meant, for a send to a name that never joined: `carol` for
 * `carl`. Close means an edit distance of at most a third of the longer name (at least 1), so `api` does not
 * suggest `web`. Ties go to the first name given.
 */
export function closestName(to: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    if (name === to) continue;
    const distance = editDistance(to.toLowerCase(), name.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(to.length, name.length) / 3));
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance, one row at a time (names are at most 128 characters). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitute));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
