/**
 * What the store keeps for rich and disappearing messages (docs/rich-messages.md),
 * as plain types that chat-store.ts's records extend. Kept apart from the
 * rules (rich-record.ts, disappearing.ts), which import the records.
 */
import type { AttachmentRecord } from './attachment-record.ts';

/** One member's reaction, kept on the message it is on. `id` is the reaction message's id (what an unlike names). */
export interface ReactionRecord {
  id: string;
  memberId: string;
  displayName: string;
  self: boolean;
  emoji: string;
  at: number;
}

/** What a MessageRecord keeps for rich messages (all optional: records from before have none). */
export interface RichRecordFields {
  /** The id of the message this one replies to. */
  inReplyTo?: string;
  reactions?: ReactionRecord[];
  edited?: boolean;
  /** Earlier texts, oldest first, each with when it was current from. */
  versions?: { text: string; at: number }[];
  /** When the current text became current (the last edit). */
  editedAt?: number;
  deleted?: boolean;
  unshowable?: boolean;
  /** Who the text names with "@" (mentions.ts): current members only; `you`: one of us. */
  mentions?: { memberId: string; at: number; length: number; you?: true }[];
  /** A file (attachment-record.ts). */
  attachment?: AttachmentRecord;
}

/** What the metadata keeps: the conversation's timer, and its messages still to expire. */
export interface DisappearingMeta {
  /** Seconds a text sent here lives; absent when off. */
  disappearAfter?: number;
  /** Messages of this device to delete, by seq, at `at` (ms since the epoch). */
  expiring?: { seq: number; at: number }[];
}
