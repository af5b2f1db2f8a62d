/**
 * Splits message text into plain text and http(s) links, so the view can build
 * anchors as DOM nodes (never as HTML). Message text is written by other
 * members and is hostile: only `http:` and `https:` become links, the href is
 * the URL parser's own serialisation, and a link's visible text is exactly the
 * slice of the message it came from (joining the tokens gives the text back).
 */

export type TextToken = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/**
 * A candidate starts with `http://` or `https://` at a word boundary and runs to
 * whitespace, a control or format character (so a bidi override or zero-width
 * character cannot hide inside a link's visible text), or a character that
 * usually delimits a URL in prose (`<>"'` and backtick). No nested quantifiers:
 * linear in the input.
 */
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`\p{Cc}\p{Cf}]+/giu;

/** Sentence punctuation that ends a link in prose ("see https://a.example."). */
const TRAILING = new Set(['.', ',', ';', ':', '!', '?']);
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** Longest link we turn into an anchor; longer runs stay text. */
export const MAX_LINK_LENGTH = 2048;

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** Drops trailing punctuation, and closing brackets that have no opening one inside the link ("(see https://a.example/x)"). */
function trimTrailing(candidate: string): string {
  let s = candidate;
  for (;;) {
    const last = s[s.length - 1];
    if (last === undefined) return s;
    if (TRAILING.has(last)) {
      s = s.slice(0, -1);
      continue;
    }
    const opener = CLOSERS[last];
    if (opener !== undefined && count(s, last) > count(s, opener)) {
      s = s.slice(0, -1);
      continue;
    }
    return s;
  }
}

/** The normalised href when `text` is an http(s) URL with a host, otherwise undefined. */
export function safeHref(text: string): string | undefined {
  if (text.length > MAX_LINK_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hostname === '') return undefined;
  return url.href;
}

export function tokenize(text: string): TextToken[] {
  const out: TextToken[] = [];
  let plain = '';
  let at = 0;
  for (const m of text.matchAll(CANDIDATE)) {
    const start = m.index;
    const candidate = trimTrailing(m[0]);
    const href = safeHref(candidate);
    if (href === undefined) continue;
    plain += text.slice(at, start);
    if (plain !== '') out.push({ kind: 'text', text: plain });
    plain = '';
    out.push({ kind: 'link', text: candidate, href });
    at = start + candidate.length;
  }
  plain += text.slice(at);
  if (plain !== '') out.push({ kind: 'text', text: plain });
  return out;
}
