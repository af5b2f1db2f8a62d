/**
 * Mentions on the wire and in the store (issue #20, docs/search.md#mentions).
 *
 * A text that names people is sent as the MIMI content draft's mention
 * example does: a `text/markdown;variant=GFM-MIMI` body in which each
 * mention is a link to the member's URI, `[@Alice](mimi://…/m/<memberId>)`
 * (mimi-wire.ts `senderUri`). Only that form of link is read as a mention;
 * the rest of the text stays as written (markdown is shown as its source).
 *
 * The rules, each with its id (found by one grep here and in the tests):
 *   M-1  a mention names a current member of the conversation; a link to
 *        anyone else (or anything else) is shown as its plain "@name" text
 *   M-2  at most MAX_MENTIONS mentions in a text: any beyond are plain text
 *   M-3  "mentions you" is decided by this device from its own member ids,
 *        never by a field of the content; it notifies even when muted
 *        (notification-policy.ts)
 *   M-4  a label with a bidirectional control character is no mention
 *   M-5  a label reads as the member it links to (labelReadsAs); "@Alice"
 *        linked to Bob is no mention, for anyone
 */
import { MAX_MENTIONS, type MentionFields, type MentionSpan } from '../protocol/mentions.ts';
import type { MessageRecord } from './chat-store.ts';
import { nameKey } from './member-names.ts';

/** The content type a text with mentions is sent as (the draft's mention example). */
export const MENTION_CONTENT_TYPE = 'text/markdown;variant=GFM-MIMI';

/** A label may not end the link's brackets early, nor carry a bidirectional control (M-4: it would be no mention). */
const cleanLabel = (s: string): string => s.replace(/[[\]()\n\r\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');

/** The markdown body of a text with mentions; `uri` gives a member's URI. */
export function encodeMentions(text: string, spans: readonly MentionSpan[], uri: (memberId: string) => string): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.at);
    const label = cleanLabel(text.slice(s.at + 1, s.at + s.length));
    out += `[@${label}](${uri(s.memberId)})`;
    at = s.at + s.length;
  }
  return out + text.slice(at);
}

/**
 * A mention link: `[@label](mimi://host/m/<memberId>)`. M-4: a label with a
 * bidirectional control (embedding, override, isolate, mark) is no mention:
 * "@\u202Eecila" would read as "@alice" while naming someone else, so such a
 * link stays its plain markdown source.
 */
const LINK = /\[@([^\]\n\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]{1,100})\]\((mimi:\/\/[^)\s]{1,300})\)/g;

/**
 * The text shown for a markdown body (mention links replaced by "@label")
 * and its mentions, as member ids read from the links whose URI `memberOf`
 * recognises (mimi-wire.ts: ours, of this form); M-2 caps them.
 */
export function decodeMentions(body: string, memberOf: (uri: string) => string | null): { text: string; mentions: MentionSpan[] } {
  let text = '';
  let at = 0;
  const mentions: MentionSpan[] = [];
  for (const m of body.matchAll(LINK)) {
    const memberId = memberOf(m[2]!);
    if (memberId === null || mentions.length >= MAX_MENTIONS) continue;
    text += body.slice(at, m.index);
    const shown = `@${m[1]!}`;
    mentions.push({ memberId, at: text.length, length: shown.length });
    text += shown;
    at = m.index + m[0].length;
  }
  return { text: text + body.slice(at), mentions };
}

/** How this device knows a member (M-5): the names it shows for them, and the first group of their fingerprint. */
export interface KnownAs {
  names: readonly string[];
  print: string;
}

/**
 * M-5: a mention's label reads as the member it links to: one of the names
 * this device knows them by (with the tag that tells two of one name apart,
 * or without it), or it carries their first fingerprint group, which is what
 * a sender who had no name for them saw in the placeholder. Otherwise a
 * hostile member could write "@Alice" and link Bob: Bob would be told he is
 * mentioned (even with the conversation muted), and everyone would read a
 * mention of Alice that Alice never hears of.
 */
export function labelReadsAs(label: string, known: KnownAs): boolean {
  const key = nameKey(label);
  return known.names.some((n) => nameKey(n) === key) || key.split(/[\s·]+/u).includes(known.print);
}

/**
 * M-1, M-3, M-5: the mentions a record keeps: of current members only
 * (`isMember`), each marked when it names us (`isSelf`); received ones only
 * when their label in `text` reads as the member (`knownAs`; our own sends
 * come from our own picker). Returns the record's fields.
 */
export function keepMentions(
  spans: readonly MentionSpan[] | undefined,
  isMember: (id: string) => boolean,
  isSelf: (id: string) => boolean,
  received?: { text: string; knownAs: (id: string) => KnownAs | undefined },
): Pick<MessageRecord, 'mentions'> {
  const reads = (s: MentionSpan): boolean => {
    if (received === undefined) return true;
    const known = received.knownAs(s.memberId);
    return known !== undefined && labelReadsAs(received.text.slice(s.at + 1, s.at + s.length), known);
  };
  const kept = (spans ?? []).filter((s) => isMember(s.memberId) && reads(s)).slice(0, MAX_MENTIONS);
  if (kept.length === 0) return {};
  return { mentions: kept.map((s) => ({ memberId: s.memberId, at: s.at, length: s.length, ...(isSelf(s.memberId) ? { you: true as const } : {}) })) };
}

/** What the view gets of a record's mentions. */
export function mentionView(m: MessageRecord): MentionFields {
  if (m.mentions === undefined || m.mentions.length === 0 || m.deleted === true) return {};
  const mentions = m.mentions.map((s) => ({ at: s.at, length: s.length, ...(s.you === true ? { you: true as const } : {}) }));
  return { mentions, ...(mentions.some((s) => s.you === true) ? { mentionsYou: true as const } : {}) };
}
