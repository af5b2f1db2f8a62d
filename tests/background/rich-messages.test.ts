/**
 * Rich messages in the background without a relay (docs/rich-messages.md):
 * the wire (mimi-wire.ts: which format a payload is, what a content means,
 * its id), the inbox on real MLS groups in memory (rich-inbox.ts), the rules
 * a reaction, edit or delete must pass (rich-record.ts, R-RICH-*), what the
 * view gets, and the strict parsing of the new channel requests.
 */
import { readFileSync } from 'node:fs';
import { encode as encodeCbor } from 'cbor2';
import { beforeAll, describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createCommit, createGroup, encodeMessage, generateIdentity, generateKeyPackage, joinFromWelcome, sendApplicationMessage, type GroupState } from '../../lib/mls/group.ts';
import { randomId, toB64 } from '../../lib/bytes.ts';
import { encodeAppMessage } from '../../lib/background/app-messages.ts';
import type { ConversationMeta, MessageRecord } from '../../lib/background/chat-store.ts';
import { creatorRoles, roleCapabilities } from '../../lib/background/conversation-roles.ts';
import { hashOf } from '../../lib/background/conversations.ts';
import { ownMemberId } from '../../lib/background/group-members.ts';
import { frame, interpret, type InboxState } from '../../lib/background/inbox.ts';
import { newPseudonym } from '../../lib/background/member-names.ts';
import { contentId, outgoing, readContent, readPayload, roomUri, senderUri, type ContentIntent } from '../../lib/background/mimi-wire.ts';
import { applyClaim, editRefusal, MAX_REACTIONS_PER_MEMBER, MAX_VERSIONS, quoteOf, richView, type RichClaim } from '../../lib/background/rich-record.ts';
import * as text from '../../lib/background/text.ts';
import { decodeContent } from '../../lib/content/decode.ts';
import { encodeContent } from '../../lib/content/encode.ts';
import { messageIdOf } from '../../lib/content/message-id.ts';
import { CHANNEL, parseRequest } from '../../lib/protocol/channel.ts';
import { isEmoji } from '../../lib/protocol/rich-messages.ts';

const suite = getCipherSuite(1);
const CONV = toB64(new Uint8Array(32).fill(5));
const ALICE = 'A'.repeat(22);
const BOB = 'B'.repeat(22);
const CAROL = 'C'.repeat(22);

const idOf = (intent: Exclude<ContentIntent, { kind: 'unshowable' }>, from: string, salt?: Uint8Array): { bytes: Uint8Array; id: string } => {
  const c = outgoing(intent, salt);
  return { bytes: c.bytes, id: contentId(from, CONV, c) };
};

describe('mimi-wire: which format, what it means, its id', () => {
  it('R-WIRE-0: the first octet tells MIMI content (0x87) from a JSON AppMessage ("{"); anything else is content that cannot be shown', () => {
    const json = encodeAppMessage({ v: 1, t: 'profile', id: randomId(), name: 'Bob', at: 1 });
    expect(readPayload(json, BOB, CONV)).toEqual({ kind: 'json', app: expect.objectContaining({ t: 'profile', name: 'Bob' }) });
    const old = encodeAppMessage({ v: 1, t: 'text', id: randomId(), text: 'from before', at: 1 });
    expect(readPayload(old, BOB, CONV)).toMatchObject({ kind: 'json', app: { t: 'text', text: 'from before' } });
    // JSON that is not one of ours stays ignored (null), as before: bookkeeping of a newer version.
    expect(readPayload(new TextEncoder().encode('{"v":2}'), BOB, CONV)).toEqual({ kind: 'json', app: null });
    const { bytes } = idOf({ kind: 'text', text: 'hi' }, BOB);
    expect(bytes[0]).toBe(0x87);
    expect(readPayload(bytes, BOB, CONV)).toMatchObject({ kind: 'content', content: { intent: { kind: 'text', text: 'hi' } } });
    // Leading whitespace before JSON, or any other first octet: not guessed at.
    for (const b of [new TextEncoder().encode(' {"v":1}'), new Uint8Array([0x86, 1]), new Uint8Array(0)]) {
      expect(readPayload(b, BOB, CONV)).toMatchObject({ kind: 'content', content: { intent: { kind: 'unshowable' } } });
    }
  });

  it('every intent we send reads back as itself, with the id the sender computed (§2.3, from the MLS sender and the conversation)', () => {
    const target = idOf({ kind: 'text', text: 'original' }, ALICE).id;
    const intents: Exclude<ContentIntent, { kind: 'unshowable' }>[] = [
      { kind: 'text', text: 'hello' },
      { kind: 'text', text: 'a reply', inReplyTo: target },
      { kind: 'reaction', target, emoji: '👍🏽' },
      { kind: 'unreact', reaction: target, target },
      { kind: 'edit', original: target, text: 'fixed' },
      { kind: 'delete', original: target },
    ];
    for (const intent of intents) {
      const { bytes, id } = idOf(intent, BOB);
      const read = readContent(bytes, BOB, CONV);
      expect(read).toEqual({ id, intent });
      const c = decodeContent(bytes);
      expect(toB64(messageIdOf(senderUri(BOB), roomUri(CONV), bytes, c.salt))).toBe(id);
      // The same bytes from another member, or in another conversation, are another message.
      expect(readContent(bytes, CAROL, CONV).id).not.toBe(id);
      expect(readContent(bytes, BOB, toB64(new Uint8Array(32))).id).not.toBe(id);
    }
  });

  it('reads the draft\'s own reply (markdown) as a reply, and its HTML mention as content it cannot show', () => {
    const vectors = new URL('../content/vectors/', import.meta.url);
    const reply = readContent(new Uint8Array(readFileSync(new URL('reply.cbor', vectors))), BOB, CONV);
    // Its extensions name another sender and room: R-WIRE-1 refuses it.
    expect(reply.intent).toEqual({ kind: 'unshowable' });
    const c = decodeContent(new Uint8Array(readFileSync(new URL('reply.cbor', vectors))));
    c.extensions.clear();
    const ours = readContent(encodeContent(c), BOB, CONV);
    expect(ours.intent).toEqual({ kind: 'text', text: "Right on! _Congratulations_ 'all!", inReplyTo: toB64(c.inReplyTo!) });
    const html = decodeContent(new Uint8Array(readFileSync(new URL('mention-html.cbor', vectors))));
    html.extensions.clear();
    expect(readContent(encodeContent(html), BOB, CONV).intent).toEqual({ kind: 'unshowable' });
  });

  it('R-WIRE-1: a content naming its own sender and room is read; one naming another sender is not shown', () => {
    const c = decodeContent(outgoing({ kind: 'text', text: 'hi' }).bytes);
    c.extensions = new Map<number | string, unknown>([[1, senderUri(BOB)], [2, roomUri(CONV)]]);
    expect(readContent(encodeContent(c), BOB, CONV).intent).toEqual({ kind: 'text', text: 'hi' });
    c.extensions = new Map<number | string, unknown>([[1, senderUri(ALICE)]]);
    expect(readContent(encodeContent(c), BOB, CONV).intent).toEqual({ kind: 'unshowable' });
  });

  it('R-WIRE-2: a reaction is one emoji to a message; malformed or unknown contents are unshowable, never an exception', () => {
    const target = idOf({ kind: 'text', text: 'x' }, ALICE).id;
    const salt = new Uint8Array(16);
    const id32 = new Uint8Array(32).fill(1);
    const bad: unknown[][] = [
      [salt, null, new Uint8Array(0), null, id32, new Map(), [2, '', 1, 'text/plain;charset=utf-8', new TextEncoder().encode('not an emoji')]],
      [salt, null, new Uint8Array(0), null, null, new Map(), [2, '', 1, 'text/plain;charset=utf-8', new TextEncoder().encode('👍')]], // to no message
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 1, 'image/png', new Uint8Array(4)]],
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 1, 'text/plain;charset=latin1', new TextEncoder().encode('x')]],
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 1, 'text/plain', new Uint8Array([0xff, 0xfe])]], // not UTF-8
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 1, 'text/plain', new TextEncoder().encode('   ')]], // empty
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 1, 'text/plain', new TextEncoder().encode('x'.repeat(4001))]],
      [salt, null, new Uint8Array(0), null, null, new Map(), [6, '', 1, 'text/plain', new TextEncoder().encode('attachment')]],
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 3, 2, [[1, '', 1, 'text/plain', new Uint8Array([104])], [1, '', 1, 'text/plain', new Uint8Array([104])]]]],
      [salt, id32, new Uint8Array(0), null, null, new Map(), [2, '', 0]], // an unlike naming no message
      [salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 5]], // not MIMI content at all
    ];
    for (const b of bad) expect(readContent(encodeCbor(b), BOB, CONV).intent).toEqual({ kind: 'unshowable' });
    // A chooseOne with a text alternative shows that text; markdown shows as its source.
    const choose = encodeCbor([salt, null, new Uint8Array(0), null, null, new Map(), [1, '', 3, 0, [[1, '', 1, 'image/png', new Uint8Array(1)], [1, '', 1, 'text/markdown;variant=GFM-MIMI', new TextEncoder().encode('**hi**')]]]]);
    expect(readContent(choose, BOB, CONV).intent).toEqual({ kind: 'text', text: '**hi**' });
    expect(isEmoji('👍')).toBe(true);
    expect(isEmoji('🇫🇷')).toBe(true);
    expect(isEmoji('👨‍👩‍👧')).toBe(true);
    expect(isEmoji('1')).toBe(false);
    expect(isEmoji('👍 ')).toBe(false);
    expect(target).toHaveLength(43);
  });
});


// -- the rules -----------------------------------------------------------------

function record(over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: idOf({ kind: 'text', text: 'hello' }, ALICE).id,
    conversationId: CONV,
    seq: 7,
    kind: 'text',
    text: 'hello',
    sender: { memberId: ALICE, displayName: 'Alice', self: false },
    sentAt: 100,
    status: 'received',
    ...over,
  };
}

const from = (memberId: string, displayName: string, self = false): RichClaim['from'] => ({ memberId, displayName, self });
const claim = (intent: RichClaim['intent'], who: RichClaim['from'], id = randomId() + randomId(), at = 500): RichClaim => ({ id, intent, from: who, at });

describe('rich-record: the rules of reactions, edits and deletes', () => {
  it('reactions: added per person and emoji, counted, and taken back only by who reacted (R-RICH-3)', () => {
    const m = record();
    const r1 = claim({ kind: 'reaction', target: m.id, emoji: '👍' }, from(BOB, 'Bob'), 'r1');
    const after1 = applyClaim(m, r1)!;
    const after2 = applyClaim(after1, claim({ kind: 'reaction', target: m.id, emoji: '👍' }, from(CAROL, 'Carol', true), 'r2'))!;
    const after3 = applyClaim(after2, claim({ kind: 'reaction', target: m.id, emoji: '❤️' }, from(BOB, 'Bob'), 'r3'))!;
    expect(richView(after3).reactions).toEqual([
      { emoji: '👍', count: 2, people: ['Bob', text.YOU], mine: true },
      { emoji: '❤️', count: 1, people: ['Bob'], mine: false },
    ]);
    // The same person and emoji again, or the same reaction message again: nothing changes.
    expect(applyClaim(after3, claim({ kind: 'reaction', target: m.id, emoji: '👍' }, from(BOB, 'Bob'), 'r4'))).toBeNull();
    expect(applyClaim(after3, r1)).toBeNull();
    // Carol cannot take back Bob's reaction.
    expect(applyClaim(after3, claim({ kind: 'unreact', reaction: 'r1', target: m.id }, from(CAROL, 'Carol')))).toBeNull();
    const unliked = applyClaim(after3, claim({ kind: 'unreact', reaction: 'r1', target: m.id }, from(BOB, 'Bob')))!;
    expect(richView(unliked).reactions).toEqual([
      { emoji: '👍', count: 1, people: [text.YOU], mine: true },
      { emoji: '❤️', count: 1, people: ['Bob'], mine: false },
    ]);
    expect(m.reactions).toBeUndefined(); // never mutated
  });

  it('R-RICH-2: an edit by anyone but the sender is refused, the record unchanged; the sender\'s is shown as edited with the earlier versions', () => {
    const m = record();
    expect(applyClaim(m, claim({ kind: 'edit', original: m.id, text: 'forged' }, from(BOB, 'Bob')))).toBeNull();
    const e1 = applyClaim(m, claim({ kind: 'edit', original: m.id, text: 'hello!' }, from(ALICE, 'Alice'), 'e1', 200))!;
    const e2 = applyClaim(e1, claim({ kind: 'edit', original: m.id, text: 'hello all' }, from(ALICE, 'Alice'), 'e2', 300))!;
    expect(e2).toMatchObject({ id: m.id, seq: 7, text: 'hello all', edited: true, editedAt: 300 });
    expect(richView(e2)).toEqual({ edited: true, versions: [{ text: 'hello', at: 100 }, { text: 'hello!', at: 200 }] });
    expect(m.text).toBe('hello');
  });

  it('R-RICH-8: a file message is never edited, by anyone (its file part would change or go); the sender may still delete it', () => {
    const file = record({ text: 'plans.pdf', attachment: { name: 'plans.pdf' } as unknown as MessageRecord['attachment'] });
    expect(editRefusal(file)).toBe('file-part');
    expect(editRefusal(record())).toBeNull();
    expect(applyClaim(file, claim({ kind: 'edit', original: file.id, text: 'plans-v2.pdf' }, from(ALICE, 'Alice')))).toBeNull();
    expect(applyClaim(file, claim({ kind: 'edit', original: file.id, text: 'pay Mallory' }, from(BOB, 'Bob')))).toBeNull();
    const gone = applyClaim(file, claim({ kind: 'delete', original: file.id }, from(ALICE, 'Alice')))!;
    expect(gone.deleted).toBe(true);
    expect(gone.attachment).toBeUndefined();
  });

  it('R-RICH-2, R-RICH-4: a delete by anyone but the sender is refused; the sender\'s removes the content itself', () => {
    const m = applyClaim(applyClaim(record({ inReplyTo: 'q'.repeat(43) }), claim({ kind: 'reaction', target: 'x', emoji: '👍' }, from(BOB, 'Bob')))!, claim({ kind: 'edit', original: 'x', text: 'secret v2' }, from(ALICE, 'Alice')))!;
    expect(applyClaim(m, claim({ kind: 'delete', original: m.id }, from(BOB, 'Bob')))).toBeNull();
    const gone = applyClaim(m, claim({ kind: 'delete', original: m.id }, from(ALICE, 'Alice')))!;
    expect(gone.text).toBe(text.MESSAGE_DELETED);
    expect(gone.deleted).toBe(true);
    for (const k of ['reactions', 'versions', 'edited', 'inReplyTo', 'editedAt'] as const) expect(gone[k]).toBeUndefined();
    expect(JSON.stringify(gone)).not.toContain('secret');
    expect(JSON.stringify(gone)).not.toContain('hello');
    expect(richView(gone)).toEqual({ deleted: true });
  });

  it('R-RICH-1, R-RICH-5: a claim on a message we do not have, a system line, or a deleted message changes nothing', () => {
    const c = claim({ kind: 'reaction', target: 'x', emoji: '👍' }, from(BOB, 'Bob'));
    expect(applyClaim(undefined, c)).toBeNull();
    expect(applyClaim(record({ kind: 'system' }), c)).toBeNull();
    const gone = applyClaim(record(), claim({ kind: 'delete', original: 'x' }, from(ALICE, 'Alice')))!;
    expect(applyClaim(gone, c)).toBeNull();
    expect(applyClaim(gone, claim({ kind: 'edit', original: 'x', text: 'back' }, from(ALICE, 'Alice')))).toBeNull();
    expect(applyClaim(record({ unshowable: true }), c)).toBeNull();
  });

  it('R-RICH-6: a hostile member cannot grow a record without end (reactions per member, versions)', () => {
    const emojis = ['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆', '😉', '😊', '😋', '😎', '😍', '😘', '🥰', '😗', '😙', '😚', '🙂', '🤗', '🤩', '🤔'];
    let m = record();
    for (const e of emojis) m = applyClaim(m, claim({ kind: 'reaction', target: m.id, emoji: e }, from(BOB, 'Bob'))) ?? m;
    expect(m.reactions).toHaveLength(MAX_REACTIONS_PER_MEMBER);
    // Someone else still can.
    expect(applyClaim(m, claim({ kind: 'reaction', target: m.id, emoji: '🤔' }, from(CAROL, 'Carol')))).not.toBeNull();
    let e = record();
    for (let i = 0; i < MAX_VERSIONS + 5; i++) e = applyClaim(e, claim({ kind: 'edit', original: e.id, text: `v${i}` }, from(ALICE, 'Alice'))) ?? e;
    expect(e.versions).toHaveLength(MAX_VERSIONS);
    expect(e.text).toBe(`v${MAX_VERSIONS - 1}`);
  });

  it('a quote shows the original as it is now: its text, that it was deleted, or that this device does not have it', () => {
    const m = record({ text: 'a  long\nline ' + 'x'.repeat(200) });
    expect(quoteOf(m.id, m)).toMatchObject({ messageId: m.id, seq: 7, senderName: 'Alice' });
    expect(quoteOf(m.id, m).text).toHaveLength(120);
    expect(quoteOf(m.id, record({ sender: { memberId: ALICE, displayName: 'Alice', self: true } })).senderName).toBe(text.YOU);
    expect(quoteOf(m.id, applyClaim(m, claim({ kind: 'delete', original: m.id }, from(ALICE, 'Alice')))!)).toEqual({ messageId: m.id, seq: 7, senderName: 'Alice', text: '', deleted: true });
    expect(quoteOf('z'.repeat(43), undefined)).toEqual({ messageId: 'z'.repeat(43), senderName: '', text: '', missing: true });
  });
});

// -- the inbox on real groups -----------------------------------------------------

async function twoMembers(): Promise<{ alice: GroupState; bob: GroupState }> {
  const mk = async () => {
    const pseudonym = newPseudonym();
    return { id: await generateIdentity(suite, pseudonym), pseudonym };
  };
  const a = await mk();
  const creator = await createGroup(suite, a.id, { capabilities: roleCapabilities(suite), groupExtensions: creatorRoles(a.pseudonym) });
  const b = await mk();
  const kp = await generateKeyPackage(suite, b.id, { capabilities: roleCapabilities(suite) });
  const add = await createCommit(creator, { proposals: [{ proposalType: 1, add: { keyPackage: kp.keyPackage } }] });
  return { alice: add.state, bob: await joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys) };
}

describe('rich-inbox: a delivery of MIMI content', () => {
  let alice: GroupState;
  let bob: GroupState;
  let meta: ConversationMeta;
  const stateOf = (over: Partial<InboxState> = {}): InboxState => ({ meta, group: alice, pending: undefined, selfName: 'Alice', readReceipts: true, now: 1000, ...over });
  const deliver = async (plain: Uint8Array): Promise<Awaited<ReturnType<typeof interpret>>> => {
    const sent = await sendApplicationMessage(bob, plain);
    bob = sent.state;
    const payload = encodeMessage(sent.message);
    return interpret(frame(hashOf(payload), payload)!, stateOf());
  };

  beforeAll(async () => {
    ({ alice, bob } = await twoMembers());
    meta = { v: 1, id: toB64(alice.context.groupId), name: 'Plans', status: 'active', queue: toB64(new Uint8Array(32)), unread: 0, lastActivity: 1, nextSeq: 3, memberCount: 2, epoch: 1, invites: [], names: { [ownMemberId(bob)]: 'Bob' } };
  });

  it('a text is a record under the id every member computes, unread, with a delivery receipt due', async () => {
    const target = outgoing({ kind: 'text', text: 'x' });
    const targetId = contentId(ownMemberId(alice), meta.id, target);
    const c = outgoing({ kind: 'text', text: 'see you', inReplyTo: targetId });
    const out = await deliver(c.bytes);
    const id = contentId(ownMemberId(bob), meta.id, c);
    expect(out.transition.messages).toEqual([
      expect.objectContaining({ id, seq: 3, kind: 'text', text: 'see you', inReplyTo: targetId, sender: expect.objectContaining({ memberId: ownMemberId(bob), displayName: 'Bob' }) }),
    ]);
    expect(out.transition.metas![0]).toMatchObject({ unread: 1, receiptsDue: { delivered: [id] }, lastMessage: { preview: 'see you', senderName: 'Bob' } });
    expect(out.effects.map((e) => e.do)).toEqual(['sendReceipts', 'incoming']);
    expect(out.rich).toBeUndefined();
  });

  it('a malformed content shows the sentence, as a message from its sender (never a crash or an empty bubble)', async () => {
    for (const bytes of [new Uint8Array([0x87, 0xff]), new Uint8Array([1, 2, 3]), encodeCbor([1, 2, 3, 4, 5, 6, 7])]) {
      const out = await deliver(bytes);
      expect(out.transition.messages).toEqual([expect.objectContaining({ kind: 'text', text: text.CANT_SHOW, unshowable: true, sender: expect.objectContaining({ displayName: 'Bob' }) })]);
      expect(out.transition.groups?.[0]?.state).toBeDefined(); // the ratchet still moves on
    }
  });

  it('a text of a version before MIMI content still shows', async () => {
    const id = randomId();
    const out = await deliver(encodeAppMessage({ v: 1, t: 'text', id, text: 'old style', at: 5 }));
    expect(out.transition.messages).toEqual([expect.objectContaining({ id, text: 'old style', sentAt: 5 })]);
  });

  it('a reaction, edit or delete is a claim for the caller, with the MLS sender as its author (no record, no unread)', async () => {
    const targetId = contentId(ownMemberId(alice), meta.id, outgoing({ kind: 'text', text: 'x' }));
    for (const intent of [
      { kind: 'reaction', target: targetId, emoji: '🎉' },
      { kind: 'edit', original: targetId, text: 'forged' },
      { kind: 'delete', original: targetId },
    ] as const) {
      const c = outgoing(intent);
      const out = await deliver(c.bytes);
      expect(out.rich).toEqual({ id: contentId(ownMemberId(bob), meta.id, c), intent, from: { memberId: ownMemberId(bob), displayName: 'Bob', self: false }, at: 1000 });
      expect(out.transition.messages).toBeUndefined();
      expect(out.transition.metas![0]!.unread).toBe(0);
      // Bob's edit of Alice's message, applied: refused (R-RICH-2).
      const mine = record({ id: targetId, sender: { memberId: ownMemberId(alice), displayName: 'Alice', self: true } });
      if (intent.kind !== 'reaction') expect(applyClaim(mine, out.rich!)).toBeNull();
    }
  });
});

describe('channel: the rich message requests are parsed strictly', () => {
  const conversationId = 'c'.repeat(43);
  const messageId = 'm'.repeat(43);
  const req = (method: string, params: unknown): unknown => parseRequest({ channel: CHANNEL, method, params });

  it('accepts exactly their parameters', () => {
    expect(req('message.reply', { conversationId, messageId, text: 'yes' })).toMatchObject({ params: { conversationId, messageId, text: 'yes' } });
    expect(req('message.react', { conversationId, messageId, emoji: '👍🏾' })).toMatchObject({ params: { emoji: '👍🏾' } });
    expect(req('message.unreact', { conversationId, messageId, emoji: '👍' })).toMatchObject({ method: 'message.unreact' });
    expect(req('message.edit', { conversationId, messageId, text: 'fixed' })).toMatchObject({ method: 'message.edit' });
    expect(req('message.deleteForEveryone', { conversationId, messageId })).toMatchObject({ params: { conversationId, messageId } });
  });

  it('refuses anything else', () => {
    expect(() => req('message.react', { conversationId, messageId, emoji: 'no' })).toThrow(/emoji/);
    expect(() => req('message.react', { conversationId, messageId, emoji: '👍'.repeat(17) })).toThrow();
    expect(() => req('message.react', { conversationId, messageId: 'short', emoji: '👍' })).toThrow(/message id/);
    expect(() => req('message.edit', { conversationId, messageId, text: 'x'.repeat(4001) })).toThrow(/too long/);
    expect(() => req('message.deleteForEveryone', { conversationId, messageId, extra: 1 })).toThrow(/unexpected/);
    expect(() => req('message.reply', { conversationId, messageId })).toThrow(/text/);
    expect(() => req('message.edit', null)).toThrow();
  });
});
