/**
 * The view contract of rich messages (issue #20, docs/rich-messages.md):
 * replies, reactions, edits and delete for everyone. What a MessageView gains
 * (all optional, so views that ignore them still work) and the requests that
 * send each, parsed as strictly as the rest of channel.ts, which extends both.
 *
 * Message ids of rich messages are MIMI message ids (draft-ietf-mimi-content
 * §2.3) in base64url: 43 characters. Messages from before MIMI content have
 * shorter random ids; they show, but cannot be replied to, reacted to, edited
 * or deleted for everyone (the background answers InvalidInput).
 */

/** The message a reply quotes, as it is now (edited: its newest text; deleted or unknown: no text). */
export interface QuoteView {
  messageId: string;
  /** Where the original is in the history, so the view can page back to it; absent when this device does not have it. */
  seq?: number;
  senderName: string;
  /** A short preview of the original's text; empty when deleted or not on this device. */
  text: string;
  deleted?: boolean;
  /** This device never had the original (sent before it joined, or not arrived). */
  missing?: boolean;
}

/** One emoji's reactions on a message. */
export interface ReactionView {
  emoji: string;
  count: number;
  /** Display names of who reacted, in the order they did ("You" for us): the tooltip. */
  people: string[];
  /** We reacted with this emoji (clicking it again takes ours back). */
  mine: boolean;
}

/** What a MessageView carries for rich messages. */
export interface RichMessageFields {
  /** The message this one replies to. */
  quote?: QuoteView;
  reactions?: ReactionView[];
  /** Its sender edited it; `versions` holds the earlier texts, oldest first. */
  edited?: boolean;
  versions?: { text: string; at: number }[];
  /** Deleted for everyone by its sender: `text` is the "message deleted" sentence and nothing of it is kept. */
  deleted?: boolean;
  /** A content this version cannot show (malformed, or of a kind it does not know): `text` says so. */
  unshowable?: boolean;
}

/** What a ConversationSummary carries for disappearing messages. */
export interface DisappearingSummary {
  /** The conversation's timer in seconds (each text sent here disappears that long after); absent when off. */
  disappearAfter?: number;
}

/**
 * Live event: these messages of one conversation expired and were deleted from this device
 * (disappearing messages): every view drops them at once, with what shows them (quotes, search hits).
 */
export interface ExpiredEvent {
  type: 'expired';
  conversationId: string;
  /** The deleted messages' seqs, ascending, at most MAX_EXPIRED_SEQS. */
  seqs: number[];
}

/** At most this many seqs in one ExpiredEvent: a larger sweep is told in several. */
export const MAX_EXPIRED_SEQS = 1000;

/** The ExpiredEvent `raw` is, exactly (no other keys, an id, 1..MAX_EXPIRED_SEQS ascending seqs); null when it is not one. */
export function parseExpiredEvent(raw: unknown): ExpiredEvent | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const e = raw as Record<string, unknown>;
  if (Object.keys(e).some((k) => k !== 'type' && k !== 'conversationId' && k !== 'seqs')) return null;
  const { type, conversationId, seqs } = e;
  if (type !== 'expired' || typeof conversationId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(conversationId)) return null;
  if (!Array.isArray(seqs) || seqs.length === 0 || seqs.length > MAX_EXPIRED_SEQS) return null;
  let last = -1;
  for (const s of seqs) {
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s <= last) return null;
    last = s;
  }
  return { type, conversationId, seqs: [...(seqs as number[])] };
}

/** The timer's choices in seconds: off, 5 minutes, 1 hour, 1 day, 1 week. */
export const DISAPPEAR_AFTER = [0, 300, 3600, 86_400, 604_800] as const;

/** The rich message requests (RequestMap extends them); `V` is channel.ts's MessageView. */
export interface RichRequests<V> {
  /** Send a text that replies to (quotes) another message. */
  'message.reply': { params: { conversationId: string; messageId: string; text: string }; result: V };
  /** Add our reaction with this emoji (nothing when we already have it there). */
  'message.react': { params: { conversationId: string; messageId: string; emoji: string }; result: null };
  /** Take back our reaction with this emoji ("unlike"). */
  'message.unreact': { params: { conversationId: string; messageId: string; emoji: string }; result: null };
  /** Replace the text of our own message; everyone sees it as edited. */
  'message.edit': { params: { conversationId: string; messageId: string; text: string }; result: null };
  /** Delete our own message for everyone: every device removes its content. */
  'message.deleteForEveryone': { params: { conversationId: string; messageId: string }; result: null };
  /** Set the conversation's disappearing-message timer for everyone (0: off); every member sees who set it. */
  'conversation.setTimer': { params: { conversationId: string; seconds: (typeof DISAPPEAR_AFTER)[number] }; result: null };
}

/** A MIMI message id in base64url (32 octets). */
export const RICH_MESSAGE_ID = /^[A-Za-z0-9_-]{43}$/;
/** At most this many UTF-16 units in a reaction (a flag, a family or a skin-toned emoji fit). */
export const MAX_EMOJI_LENGTH = 32;

const EMOJI_CHARS = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|\p{Emoji_Modifier}|\p{Emoji_Component}|\u200d|\ufe0f|\u20e3)+$/u;
const EMOJI_BASE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** An emoji (possibly a sequence: skin tone, ZWJ family, flag, keycap), and nothing else. The background checks received reactions with it too. */
export function isEmoji(s: string): boolean {
  return s.length > 0 && s.length <= MAX_EMOJI_LENGTH && EMOJI_CHARS.test(s) && EMOJI_BASE.test(s);
}

type Params = Record<string, unknown>;

/** The strict readers of channel.ts, passed in (this file cannot import channel.ts, which imports it). */
export interface RichReaders {
  keys(p: Params, allowed: readonly string[]): void;
  str(p: Params, k: string, max: number): string;
  id(p: Params, k: string): string;
  bad(message: string): Error;
}

/** The validators of the rich message requests, for channel.ts's VALIDATORS; `textMax` is LIMITS.messageText. */
export function richValidators<V>(r: RichReaders, textMax: number) {
  type R = RichRequests<V>;
  const target = (p: Params): { conversationId: string; messageId: string } => {
    const messageId = r.id(p, 'messageId');
    if (!RICH_MESSAGE_ID.test(messageId)) throw r.bad('messageId is not a message id');
    return { conversationId: r.id(p, 'conversationId'), messageId };
  };
  const emoji = (p: Params): string => {
    const e = r.str(p, 'emoji', MAX_EMOJI_LENGTH);
    if (!isEmoji(e)) throw r.bad('emoji must be one emoji');
    return e;
  };
  return {
    'message.reply': (p: Params): R['message.reply']['params'] => (r.keys(p, ['conversationId', 'messageId', 'text']), { ...target(p), text: r.str(p, 'text', textMax) }),
    'message.react': (p: Params): R['message.react']['params'] => (r.keys(p, ['conversationId', 'messageId', 'emoji']), { ...target(p), emoji: emoji(p) }),
    'message.unreact': (p: Params): R['message.unreact']['params'] => (r.keys(p, ['conversationId', 'messageId', 'emoji']), { ...target(p), emoji: emoji(p) }),
    'message.edit': (p: Params): R['message.edit']['params'] => (r.keys(p, ['conversationId', 'messageId', 'text']), { ...target(p), text: r.str(p, 'text', textMax) }),
    'message.deleteForEveryone': (p: Params): R['message.deleteForEveryone']['params'] => (r.keys(p, ['conversationId', 'messageId']), target(p)),
    'conversation.setTimer': (p: Params): R['conversation.setTimer']['params'] => {
      r.keys(p, ['conversationId', 'seconds']);
      const seconds = DISAPPEAR_AFTER.find((s) => s === p.seconds);
      if (seconds === undefined) throw r.bad(`seconds must be one of ${DISAPPEAR_AFTER.join(', ')}`);
      return { conversationId: r.id(p, 'conversationId'), seconds };
    },
  } as const;
}
