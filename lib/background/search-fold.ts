/**
 * Folding text for search (docs/search.md): what makes "Cafe" find "café",
 * "STRASSE" find "Straße" and "σ" find a word-final "ς".
 *
 * A text is folded code point by code point: compatibility decomposition
 * (NFKD), combining marks dropped, lower case, then the few case pairs that
 * lower-casing alone leaves apart (ß, final sigma). Folding each code point
 * on its own gives the same string as folding the whole text (the marks that
 * canonical reordering would move are dropped anyway, and the only
 * context-dependent lower-casing, final sigma, is folded to σ), so a match in
 * the folded text maps back to the characters of the original that made it.
 */

const MARKS = /\p{M}/gu;

const EXTRA: Record<string, string> = { ß: 'ss', ẞ: 'ss', ς: 'σ', ﬅ: 'st', ﬆ: 'st' };

function foldOne(ch: string): string {
  const lower = ch.normalize('NFKD').replace(MARKS, '').toLowerCase();
  let out = '';
  for (const c of lower) out += EXTRA[c] ?? c;
  return out;
}

/** The folded form of a text, as the index keeps it and queries are matched against. */
export function fold(text: string): string {
  // Plain ASCII (most texts) folds by lower-casing alone: the fast path keeps indexing 10,000 messages quick.
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(text)) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += foldOne(ch);
  return out;
}

/**
 * The folded text together with, for each of its UTF-16 units, where the
 * character that produced it starts and ends in the original.
 */
export function foldWithMap(text: string): { folded: string; starts: number[]; ends: number[] } {
  let folded = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const ch of text) {
    const f = foldOne(ch);
    for (let i = 0; i < f.length; i++) {
      starts.push(at);
      ends.push(at + ch.length);
    }
    folded += f;
    at += ch.length;
  }
  return { folded, starts, ends };
}

/** The terms of a query: folded, split on white space, without repeats; at most `max` of them. */
export function queryTerms(query: string, max: number): string[] {
  const terms = fold(query)
    .split(/\s+/u)
    .filter((s) => s !== '');
  return [...new Set(terms)].slice(0, max);
}

/** Whether a folded text holds every term. */
export function matchesAll(folded: string, terms: readonly string[]): boolean {
  for (const t of terms) if (!folded.includes(t)) return false;
  return true;
}

/** Where the terms occur in the original text, as [start, end) ranges, sorted and merged. */
export function highlights(text: string, terms: readonly string[]): [number, number][] {
  const { folded, starts, ends } = foldWithMap(text);
  const raw: [number, number][] = [];
  for (const t of terms) {
    if (t === '') continue;
    for (let i = folded.indexOf(t); i !== -1; i = folded.indexOf(t, i + t.length)) raw.push([starts[i]!, ends[i + t.length - 1]!]);
  }
  raw.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const r of raw) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
