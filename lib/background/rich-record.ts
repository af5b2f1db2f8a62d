/**
 * Rich messages in the store, as pure functions (docs/rich-messages.md):
 * what a message record keeps of replies, reactions, edits and deletes, how
 * another member's action changes the record it names, and what the view
 * gets of it.
 *
 * The rules, each with its id (found by one grep here and in the tests):
 *   R-RICH-1  a reaction, edit or delete names a message we have, a text;
 *             one we do not have (sent before we joined, or gone) is ignored
 *   R-RICH-2  only the original sender's edit or delete counts (the draft,
 *             §9 "Rendering and authorization of edits and deletes": "MUST NOT
 *             allow parties other than the original sender"); anyone else's
 *             is refused and the record is left as it was. The sender is the
 *             person, not the leaf: another device of the same person (the
 *             identity that vouches for both, identity/same-person.ts) counts
 *   R-RICH-3  only who reacted (that person, from any of their devices) can
 *             take their reaction back
 *   R-RICH-4  a deleted message keeps nothing of its content: text, earlier
 *             versions, reactions, reply link and file (its record here, its
 *             stored chunks in chat-store.ts) are removed, not hidden
 *   R-RICH-5  a deleted message cannot be edited or reacted to again
 *   R-RICH-6  bounded: at most MAX_REACTIONS_PER_MEMBER reactions of one member
 *             and MAX_REACTIONS in all on a message, and MAX_VERSIONS earlier
 *             versions, so a hostile member cannot grow a record without end
 *   R-RICH-7  a received text lives no longer than the conversation's timer
 *             after arrival, whatever its content says (rich-inbox.ts)
 *   R-RICH-8  a file message (a MIMI external part) is never edited: its text
 *             is the file's name, it has no caption, and an edit replaces a
 *             content's whole body (draft §3.4), so any edit of it would
 *             change or drop the file. Refused (InvalidInput on the sending
 *             side, nothing written on a receiving one); delete stays allowed
 */
import type { QuoteView, ReactionView, RichMessageFields } from '../protocol/rich-messages.ts';
import type { AttachmentFields } from '../protocol/attachments.ts';
import type { MessageRecord } from './chat-store.ts';
import type { ReactionRecord } from './rich-fields.ts';
import type { ContentIntent } from './mimi-wire.ts';
import { attachmentView } from './attachment-record.ts';
import * as text from './text.ts';

export const MAX_REACTIONS_PER_MEMBER = 20;
export const MAX_REACTIONS = 500;
export const MAX_VERSIONS = 100;

/** Another member's (or our own) reaction, unlike, edit or delete, to be applied to the record it names. */
export interface RichClaim {
  /** The action message's own id. */
  id: string;
  intent: Extract<ContentIntent, { kind: 'reaction' | 'unreact' | 'edit' | 'delete' }>;
  from: { memberId: string; displayName: string; self: boolean };
  at: number;
}

/** The id of the message a claim changes. */
export function claimTarget(i: RichClaim['intent']): string {
  return i.kind === 'reaction' || i.kind === 'unreact' ? i.target : i.original;
}

/** Whether two member ids are the same person (identity/same-person.ts); by default only the same member. */
export type SameAuthor = (a: string, b: string) => boolean;
const sameMember: SameAuthor = (a, b) => a === b;

/**
 * The record after the claim, or null when it changes nothing or is refused
 * (the caller then writes nothing). Never mutates `target`.
 */
export function applyClaim(target: MessageRecord | undefined, c: RichClaim, same: SameAuthor = sameMember): MessageRecord | null {
  // R-RICH-1, R-RICH-5
  if (target === undefined || target.kind !== 'text' || target.deleted === true) return null;
  const i = c.intent;
  const reactions = target.reactions ?? [];
  switch (i.kind) {
    case 'reaction': {
      if (target.unshowable === true) return null;
      // One reaction per person and emoji (from any of their devices); the same message seen twice counts once.
      if (reactions.some((r) => r.id === c.id || (same(r.memberId, c.from.memberId) && r.emoji === i.emoji))) return null;
      // R-RICH-6
      if (reactions.length >= MAX_REACTIONS || reactions.filter((r) => r.memberId === c.from.memberId).length >= MAX_REACTIONS_PER_MEMBER) return null;
      return { ...target, reactions: [...reactions, { id: c.id, ...c.from, emoji: i.emoji, at: c.at }] };
    }
    case 'unreact': {
      // R-RICH-3
      const left = reactions.filter((r) => !(r.id === i.reaction && same(r.memberId, c.from.memberId)));
      if (left.length === reactions.length) return null;
      const { reactions: _gone, ...rest } = target;
      return left.length === 0 ? rest : { ...rest, reactions: left };
    }
    case 'edit': {
      // R-RICH-2, R-RICH-8
      if (!same(target.sender.memberId, c.from.memberId) || target.unshowable === true || editRefusal(target) !== null) return null;
      // R-RICH-6
      if (target.text === i.text || (target.versions?.length ?? 0) >= MAX_VERSIONS) return null;
      const versions = [...(target.versions ?? []), { text: target.text, at: target.editedAt ?? target.sentAt }];
      // The mentions named places in the old text (mentions.ts): an edit's text has none of them.
      const { mentions: _m, ...kept } = target;
      return { ...kept, text: i.text, edited: true, versions, editedAt: c.at };
    }
    case 'delete': {
      // R-RICH-2, R-RICH-4
      if (!same(target.sender.memberId, c.from.memberId)) return null;
      const { reactions: _r, versions: _v, edited: _e, editedAt: _a, inReplyTo: _q, unshowable: _u, mentions: _m, attachment: _f, ...rest } = target;
      return { ...rest, text: text.MESSAGE_DELETED, deleted: true };
    }
  }
}

/** Why a message cannot be edited at all, whoever asks (R-RICH-8); null when its text can be. */
export function editRefusal(target: Pick<MessageRecord, 'attachment'>): 'file-part' | null {
  return target.attachment !== undefined ? 'file-part' : null;
}

/** What the view gets of a record's rich fields (the quote is added by `quoteOf`, which needs the original). */
export function richView(m: MessageRecord): RichMessageFields & AttachmentFields {
  const out: RichMessageFields & AttachmentFields = {};
  if (m.deleted === true) out.deleted = true;
  if (m.unshowable === true) out.unshowable = true;
  if (m.edited === true) {
    out.edited = true;
    out.versions = (m.versions ?? []).map((v) => ({ ...v }));
  }
  if (m.reactions !== undefined && m.reactions.length > 0) out.reactions = reactionViews(m.reactions);
  if (m.attachment !== undefined) out.attachment = attachmentView(m.attachment);
  return out;
}

function reactionViews(list: readonly ReactionRecord[]): ReactionView[] {
  const byEmoji = new Map<string, ReactionView>();
  for (const r of list) {
    const v = byEmoji.get(r.emoji) ?? { emoji: r.emoji, count: 0, people: [], mine: false };
    v.count++;
    v.people.push(r.self ? text.YOU : r.displayName);
    if (r.self) v.mine = true;
    byEmoji.set(r.emoji, v);
  }
  return [...byEmoji.values()];
}

const QUOTE_LENGTH = 120;

/** The quote of a reply's original as it is now: its latest text, or that it was deleted, or that this device does not have it. */
export function quoteOf(messageId: string, original: MessageRecord | undefined): QuoteView {
  if (original === undefined) return { messageId, senderName: '', text: '', missing: true };
  const senderName = original.sender.self ? text.YOU : original.sender.displayName;
  if (original.deleted === true) return { messageId, seq: original.seq, senderName, text: '', deleted: true };
  const one = original.text.replace(/\s+/g, ' ').trim();
  return { messageId, seq: original.seq, senderName, text: one.length > QUOTE_LENGTH ? `${one.slice(0, QUOTE_LENGTH - 1)}…` : one };
}
