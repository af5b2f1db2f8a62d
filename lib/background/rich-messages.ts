/**
 * Rich messages in the chat service (docs/rich-messages.md): sending texts,
 * replies, reactions, unlikes, edits and deletes for everyone as MIMI content
 * (mimi-wire.ts), and applying other members' reactions, edits and deletes
 * (inbox `Outcome.rich`) to the records they name, by the rules of
 * rich-record.ts. Quotes are made when messages are shown (`withQuotes`),
 * from the original as it is then, so an edit or a delete of the original
 * shows in every reply and a deleted text survives in none.
 */
import { ChannelError, ErrorCode, type MessageView } from '../protocol/channel.ts';
import type { MessageRecord } from './chat-store.ts';
import { preview, toView, type Conversations } from './conversations.ts';
import { memberIds, ownMemberId } from './group-members.ts';
import { keepMentions } from './mentions.ts';
import type { MentionSpan } from '../protocol/mentions.ts';
import { labelText } from './member-names.ts';
import { messageIdFrom, outgoing, type ContentIntent } from './mimi-wire.ts';
import type { Outbox } from './outbox.ts';
import { newReceiptState } from './receipts.ts';
import { expiresAt, expiryToSend, scheduleExpiry } from './disappearing.ts';
import { applyClaim, claimTarget, editRefusal, quoteOf, type RichClaim, type SameAuthor } from './rich-record.ts';
import { samePerson } from './identity/same-person.ts';
import * as text from './text.ts';

export class RichMessages {
  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
  ) {}

  /** A text, or a reply to `inReplyTo`; returns it as shown. */
  async sendText(id: string, body: string, inReplyTo?: string, spans?: readonly MentionSpan[]): Promise<MessageView> {
    if (body.trim() === '') throw new ChannelError(ErrorCode.InvalidInput, text.EMPTY_MESSAGE);
    if (inReplyTo !== undefined) await this.target(id, inReplyTo);
    // M-1: mentions of current members only (mentions.ts).
    let mentioned: Pick<MessageRecord, 'mentions'> = {};
    if (spans !== undefined && spans.length > 0) {
      const state = await this.c.group(id);
      const members = new Set(memberIds(state));
      mentioned = keepMentions(spans, (m) => members.has(m), (m) => m === ownMemberId(state));
    }
    const mentions = mentioned.mentions?.map((m) => ({ memberId: m.memberId, at: m.at, length: m.length }));
    // Under a conversation timer the text carries its expiry (disappearing.ts).
    const expires = expiryToSend(this.c.activeMeta(id), Date.now());
    const content = outgoing({ kind: 'text', text: body, ...(inReplyTo === undefined ? {} : { inReplyTo }), ...(mentions === undefined ? {} : { mentions }) }, undefined, expires);
    let view: MessageView | undefined;
    await this.outbox.sendApp(id, content, async (meta, msgId, self, others) => {
      const rec: MessageRecord = {
        id: msgId,
        conversationId: id,
        seq: meta.nextSeq++,
        kind: 'text',
        text: body,
        sender: self,
        sentAt: Date.now(),
        status: 'sending',
        // "Delivered" is judged against who is here now: a later joiner cannot read it anyway.
        receipts: newReceiptState(others),
        ...(inReplyTo === undefined ? {} : { inReplyTo }),
        ...mentioned,
      };
      meta.lastMessage = { preview: preview(body), senderName: labelText(self), fromSelf: true };
      if (expires !== null) scheduleExpiry(meta, rec.seq, expiresAt(expires, rec.sentAt));
      [view] = await this.withQuotes(id, [rec]);
      return rec;
    });
    return view!;
  }

  /** Our reaction with `emoji`; nothing when we have it there already. */
  async react(id: string, messageId: string, emoji: string): Promise<void> {
    const target = await this.target(id, messageId);
    const { own, same } = await this.author(id);
    if (target.deleted === true || target.unshowable === true) throw new ChannelError(ErrorCode.InvalidInput, text.CANT_CHANGE_MESSAGE);
    // Ours from any of our devices: one reaction per person and emoji.
    if (target.reactions?.some((r) => same(r.memberId, own) && r.emoji === emoji) === true) return;
    await this.sendClaim(id, { kind: 'reaction', target: messageId, emoji });
  }

  /** Take back our reaction with `emoji` (an "unlike", §4 of the draft); nothing when we have none. */
  async unreact(id: string, messageId: string, emoji: string): Promise<void> {
    const target = await this.target(id, messageId);
    const { own, same } = await this.author(id);
    const ours = target.reactions?.find((r) => same(r.memberId, own) && r.emoji === emoji);
    if (ours === undefined) return;
    await this.sendClaim(id, { kind: 'unreact', reaction: ours.id, target: messageId });
  }

  async edit(id: string, messageId: string, body: string): Promise<void> {
    if (body.trim() === '') throw new ChannelError(ErrorCode.InvalidInput, text.EMPTY_MESSAGE);
    // R-RICH-8: a file message has no words to edit, and an edit would drop its file on every device.
    if (editRefusal(await this.ownTarget(id, messageId)) !== null) throw new ChannelError(ErrorCode.InvalidInput, text.CANT_EDIT_FILE);
    await this.sendClaim(id, { kind: 'edit', original: messageId, text: body });
  }

  async deleteForEveryone(id: string, messageId: string): Promise<void> {
    await this.ownTarget(id, messageId);
    await this.sendClaim(id, { kind: 'delete', original: messageId });
  }

  /**
   * Another member's claim (inbox `Outcome.rich`): the record it changes, or
   * nothing when it is refused or names a message we do not have (rich-record.ts).
   */
  async resolve(id: string, claim: RichClaim): Promise<MessageRecord[]> {
    const target = await this.c.store.message(id, claimTarget(claim.intent)).catch(() => undefined);
    const changed = applyClaim(target, claim, (await this.author(id)).same);
    return changed === null ? [] : [changed];
  }

  /** A new record whose id is already taken (a member sending the same content twice): dropped, the first one stays. */
  async withoutTaken(id: string, records: MessageRecord[]): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for (const r of records) {
      const have = await this.c.store.message(id, r.id).catch(() => undefined);
      if (have === undefined || have.seq === r.seq) out.push(r);
    }
    return out;
  }

  /** Views of records, with the quotes of replies made from their originals as they are now. */
  async withQuotes(id: string, records: readonly MessageRecord[], views: MessageView[] = records.map(toView)): Promise<MessageView[]> {
    const near = new Map(records.map((r) => [r.id, r]));
    return Promise.all(
      records.map(async (r, i) => {
        if (r.inReplyTo === undefined) return views[i]!;
        const original = near.get(r.inReplyTo) ?? (await this.c.store.message(id, r.inReplyTo).catch(() => undefined));
        return { ...views[i]!, quote: quoteOf(r.inReplyTo, original) };
      }),
    );
  }

  /** Send a reaction, unlike, edit or delete, and apply it to our own copy in the same transaction. */
  private async sendClaim(id: string, intent: RichClaim['intent']): Promise<void> {
    const content = outgoing(intent as Exclude<ContentIntent, { kind: 'unshowable' }>);
    const { same } = await this.author(id);
    await this.outbox.sendApp(id, content, async (_meta, msgId, self) => {
      // Read again inside the transition: whatever arrived since the checks above counts.
      const target = await this.c.store.message(id, claimTarget(intent));
      const changed = applyClaim(target, { id: msgId, intent, from: { memberId: self.memberId, displayName: self.displayName, self: true }, at: Date.now() }, same);
      return changed ?? undefined;
    });
  }

  /** A message of this conversation with a MIMI id (texts from before MIMI content cannot be named by one). */
  private async target(id: string, messageId: string): Promise<MessageRecord> {
    if (messageIdFrom(messageId) === undefined) throw new ChannelError(ErrorCode.InvalidInput, text.OLD_MESSAGE);
    this.c.activeMeta(id);
    const rec = await this.c.store.message(id, messageId);
    if (rec === undefined || rec.kind !== 'text') throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_MESSAGE);
    return rec;
  }

  /**
   * Who counts as the author of what in this conversation: this device's member id, and whether two
   * member ids are the same person (identity/same-person.ts, by the proofs kept in the conversation now).
   */
  private async author(id: string): Promise<{ own: string; same: SameAuthor }> {
    const own = ownMemberId(await this.c.group(id));
    const ctx = { proofs: this.c.meta(id), own: this.c.deps.people?.own, ownMemberId: own };
    return { own, same: (a, b) => samePerson(ctx, a, b) };
  }

  /** Our own message (sent by this device or another of ours), still there: only it may be edited or deleted (R-RICH-2 on the sending side). */
  private async ownTarget(id: string, messageId: string): Promise<MessageRecord> {
    const rec = await this.target(id, messageId);
    const { own, same } = await this.author(id);
    if (!same(rec.sender.memberId, own)) throw new ChannelError(ErrorCode.Forbidden, text.NOT_YOUR_MESSAGE);
    if (rec.deleted === true || rec.unshowable === true) throw new ChannelError(ErrorCode.InvalidInput, text.CANT_CHANGE_MESSAGE);
    return rec;
  }
}
