/**
 * The view contract of mentions (issue #20, docs/search.md#mentions): where
 * a text names people with "@", as spans of its text. What the composer
 * sends with a text, and what a MessageView gains; parsed as strictly as the
 * rest of channel.ts, which extends both.
 */

/** One mention in a text: `text.slice(at, at + length)` is "@" and the name shown. */
export interface MentionSpan {
  memberId: string;
  at: number;
  length: number;
}

/** At most this many mentions in one text; any beyond are shown as plain text. */
export const MAX_MENTIONS = 50;

/** What a MessageView carries for mentions. */
export interface MentionFields {
  /** The mentions to show highlighted; `you`: this one names us. */
  mentions?: { at: number; length: number; you?: true }[];
  /** The text mentions us: it notifies even when the conversation is muted. */
  mentionsYou?: true;
}

/**
 * Mentions as sent (or received): sorted, not overlapping, inside the text,
 * each starting with "@".
 */
export function validSpans(text: string, spans: readonly MentionSpan[]): boolean {
  if (spans.length > MAX_MENTIONS) return false;
  let end = 0;
  for (const s of spans) {
    if (!Number.isInteger(s.at) || !Number.isInteger(s.length) || s.at < end || s.length < 2 || s.at + s.length > text.length) return false;
    if (text[s.at] !== '@') return false;
    end = s.at + s.length;
  }
  return true;
}

type Params = Record<string, unknown>;

/** message.send's params with its optional `mentions` (an array of {memberId, at, length}, valid for `text`) read into them. */
export function readMentions<T extends { text: string }>(p: Params, params: T, r: { id(p: Params, k: string): string; bad(message: string): Error }): T & { mentions?: MentionSpan[] } {
  if (!Object.hasOwn(p, 'mentions')) return params;
  const text = params.text;
  const v = p.mentions;
  if (!Array.isArray(v) || v.length > MAX_MENTIONS) throw r.bad(`mentions must be an array of at most ${MAX_MENTIONS}`);
  const spans = v.map((m: unknown) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw r.bad('a mention must be an object');
    const o = m as Params;
    if (Object.keys(o).some((k) => k !== 'memberId' && k !== 'at' && k !== 'length')) throw r.bad('a mention has memberId, at and length only');
    return { memberId: r.id(o, 'memberId'), at: o.at as number, length: o.length as number };
  });
  if (!validSpans(text, spans)) throw r.bad('mentions must be sorted spans of the text, each starting with @');
  return { ...params, mentions: spans };
}
