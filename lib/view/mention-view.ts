/**
 * The logic of mentions in the views (docs/search.md#mentions): the "@name"
 * being typed before the cursor, the people it offers, the spans a text's
 * chosen mentions make when it is sent, and a received text's tokens with its
 * mentions marked (links made as before, linkify.ts).
 */
import { tokenize, type TextToken } from './linkify.ts';
import { MAX_MENTIONS, type MentionFields, type MentionSpan } from '../protocol/mentions.ts';

export interface Person {
  memberId: string;
  name: string;
}

/** The "@query" right before the cursor (after a space or at the start), or null. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const m = /(?:^|\s)@([^\s@]{0,40})$/u.exec(text.slice(0, caret));
  if (m === null) return null;
  return { start: caret - m[1]!.length - 1, query: m[1]! };
}

/** The people whose name starts with the query (or has a word that does), in the order given; at most `max`. */
export function offer(people: readonly Person[], query: string, max = 8): Person[] {
  const q = query.toLocaleLowerCase();
  return people.filter((p) => q === '' || p.name.toLocaleLowerCase().split(/\s+/).some((w) => w.startsWith(q)) || p.name.toLocaleLowerCase().startsWith(q)).slice(0, max);
}

/**
 * The spans of the chosen mentions still in the text: each "@name" taken in
 * order, left to right, once; a chosen one the person has since deleted is
 * not there and is left out.
 */
export function spansOf(text: string, chosen: readonly Person[]): MentionSpan[] {
  const found: MentionSpan[] = [];
  const taken = new Set<number>();
  for (const p of chosen) {
    const needle = `@${p.name}`;
    for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) {
      const before = i === 0 ? ' ' : text[i - 1]!;
      if (taken.has(i) || !/\s/u.test(before)) continue;
      taken.add(i);
      found.push({ memberId: p.memberId, at: i, length: needle.length });
      break;
    }
  }
  found.sort((a, b) => a.at - b.at);
  // Never overlapping (one name the start of another's): keep the first.
  const out: MentionSpan[] = [];
  for (const s of found) if (out.length === 0 || s.at >= out[out.length - 1]!.at + out[out.length - 1]!.length) out.push(s);
  return out.slice(0, MAX_MENTIONS);
}

export type MessageToken = TextToken | { kind: 'mention'; text: string; you: boolean };

/** A text's tokens: its mentions marked, links in the rest. Spans that do not fit the text are ignored. */
export function messageTokens(text: string, mentions: MentionFields['mentions']): MessageToken[] {
  if (mentions === undefined || mentions.length === 0) return tokenize(text);
  const out: MessageToken[] = [];
  let at = 0;
  for (const m of mentions) {
    if (m.at < at || m.length < 1 || m.at + m.length > text.length || text[m.at] !== '@') continue;
    if (m.at > at) out.push(...tokenize(text.slice(at, m.at)));
    out.push({ kind: 'mention', text: text.slice(m.at, m.at + m.length), you: m.you === true });
    at = m.at + m.length;
  }
  if (at < text.length) out.push(...tokenize(text.slice(at)));
  return out;
}
