/**
 * Mentions (docs/search.md#mentions, lib/background/mentions.ts, M-*): the
 * draft's mention form on the wire (a GFM-MIMI markdown text linking each
 * mention to the member's URI), read back strictly; what a hostile member
 * can send (a URI that is no member, a thousand mentions); what the record
 * and the view keep; and the notification rule (a mention of us notifies
 * even in a muted conversation).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import type { MessageRecord } from '../../lib/background/chat-store.ts';
import { decodeMentions, encodeMentions, keepMentions, labelReadsAs, mentionView, MENTION_CONTENT_TYPE, type KnownAs } from '../../lib/background/mentions.ts';
import { memberOfUri, outgoing, readContent, senderUri } from '../../lib/background/mimi-wire.ts';
import { NotificationPolicy } from '../../lib/background/notification-policy.ts';
import { applyClaim } from '../../lib/background/rich-record.ts';
import { decodeContent } from '../../lib/content/decode.ts';
import { encodeContent } from '../../lib/content/encode.ts';
import { Cardinality } from '../../lib/content/types.ts';
import { CHANNEL, MUTE_ALWAYS, parseRequest, type ConversationSummary, type MessageView } from '../../lib/protocol/channel.ts';
import { MAX_MENTIONS } from '../../lib/protocol/mentions.ts';

const CONV = toB64(new Uint8Array(32).fill(5));
const ALICE = 'A'.repeat(22);
const BOB = 'B'.repeat(22);
const CAROL = 'C'.repeat(22);

describe('mentions on the wire', () => {
  it('a text with mentions is sent as the draft’s mention form and reads back as the same text and spans', () => {
    const text = 'Kudos to @Alice and @Carol for the release!';
    const mentions = [
      { memberId: ALICE, at: 9, length: 6 },
      { memberId: CAROL, at: 20, length: 6 },
    ];
    const c = outgoing({ kind: 'text', text, mentions });
    const content = decodeContent(c.bytes);
    expect(content.body).toMatchObject({ cardinality: Cardinality.single, contentType: MENTION_CONTENT_TYPE });
    const body = new TextDecoder().decode((content.body as { content: Uint8Array }).content);
    expect(body).toBe(`Kudos to [@Alice](${senderUri(ALICE)}) and [@Carol](${senderUri(CAROL)}) for the release!`);
    expect(readContent(c.bytes, BOB, CONV).intent).toEqual({ kind: 'text', text, mentions });
    // Without mentions: plain text, as before.
    expect(decodeContent(outgoing({ kind: 'text', text: 'hi @nobody' }).bytes).body).toMatchObject({ contentType: 'text/plain;charset=utf-8' });
  });

  it('the draft’s own mention example (another service’s URI) shows as its markdown source, with no mention', () => {
    const c = decodeContent(new Uint8Array(readFileSync(new URL('../content/vectors/mention.cbor', import.meta.url))));
    c.extensions.clear();
    const read = readContent(encodeContent(c), BOB, CONV).intent;
    expect(read).toMatchObject({ kind: 'text', text: 'Kudos to [@Alice Smith](mimi://example.com/u/alice-smith) for making the release happen!' });
    expect(read).not.toHaveProperty('mentions');
  });

  it('only our member URIs name a member; a label cannot break out of its link', () => {
    expect(memberOfUri(senderUri(ALICE))).toBe(ALICE);
    for (const uri of ['mimi://example.com/u/alice', `${senderUri(ALICE)}/x`, 'mimi://microchat.invalid/m/', 'https://microchat.invalid/m/AAAA']) expect(memberOfUri(uri)).toBeNull();
    const body = encodeMentions('hi @Al](x) ice', [{ memberId: ALICE, at: 3, length: 11 }], senderUri);
    expect(body).toBe(`hi [@Alx ice](${senderUri(ALICE)})`);
    expect(decodeMentions(body, memberOfUri)).toEqual({ text: 'hi @Alx ice', mentions: [{ memberId: ALICE, at: 3, length: 8 }] });
  });

  it('M-2: a hostile member’s thousand mentions keep at most MAX_MENTIONS; the text is all there', () => {
    const body = Array.from({ length: 1000 }, (_, i) => `[@p${i}](${senderUri(`m${i}`)})`).join(' ');
    const { text, mentions } = decodeMentions(body, memberOfUri);
    expect(mentions).toHaveLength(MAX_MENTIONS);
    expect(text.startsWith('@p0 @p1 ')).toBe(true);
    expect(text).toContain(`[@p999](${senderUri('m999')})`);
    for (const m of mentions) expect(text.slice(m.at, m.at + m.length)).toBe(`@p${m.memberId.slice(1)}`);
  });
});

describe('mentions in the record and the view', () => {
  const spans = [
    { memberId: ALICE, at: 0, length: 6 },
    { memberId: 'stranger', at: 7, length: 9 },
  ];
  it('M-1, M-3: only current members are kept, ours marked; the view says it mentions us', () => {
    const kept = keepMentions(spans, (id) => id === ALICE || id === BOB, (id) => id === ALICE);
    expect(kept).toEqual({ mentions: [{ memberId: ALICE, at: 0, length: 6, you: true }] });
    const rec = { id: 'x', conversationId: CONV, seq: 1, kind: 'text', text: '@Alice @Stranger hi', sender: { memberId: BOB, displayName: 'Bob', self: false }, sentAt: 1, status: 'received', ...kept } as MessageRecord;
    expect(mentionView(rec)).toEqual({ mentions: [{ at: 0, length: 6, you: true }], mentionsYou: true });
    expect(keepMentions(spans, () => false, () => false)).toEqual({});
    expect(mentionView({ ...rec, mentions: [{ memberId: BOB, at: 0, length: 6 }] })).toEqual({ mentions: [{ at: 0, length: 6 }] });
    // An edit's text has none of the old places; a delete keeps nothing.
    const edited = applyClaim(rec, { id: 'e', intent: { kind: 'edit', original: 'x', text: 'new words' }, from: { memberId: BOB, displayName: 'Bob', self: false }, at: 2 });
    expect(edited).not.toHaveProperty('mentions');
    const deleted = applyClaim(rec, { id: 'd', intent: { kind: 'delete', original: 'x' }, from: { memberId: BOB, displayName: 'Bob', self: false }, at: 2 });
    expect(deleted).not.toHaveProperty('mentions');
  });

  it('M-5: a received mention is kept only when its label reads as the member it links to', () => {
    const known: Record<string, KnownAs> = {
      [ALICE]: { names: ['Alice'], print: '11111' },
      [BOB]: { names: ['Bob', 'Bob · 22222', 'Bob 22222'], print: '22222' },
    };
    const knownAs = (id: string): KnownAs | undefined => known[id];
    const keep = (text: string, memberId: string, at: number, length: number) =>
      keepMentions([{ memberId, at, length }], (id) => id in known, (id) => id === BOB, { text, knownAs });
    // "@Alice" linked to Bob: no mention, for Bob ("you") or anyone else.
    expect(keep('pay @Alice now', BOB, 4, 6)).toEqual({});
    expect(keep('pay @Alice now', ALICE, 4, 6)).toEqual({ mentions: [{ memberId: ALICE, at: 4, length: 6 }] });
    // The name as shown, with its tag in either form, in another case or spacing; or the placeholder's fingerprint group.
    for (const label of ['@Bob', '@bob', '@Bob · 22222', '@Bob 22222', '@Member 22222', '@Mitglied 22222']) {
      expect(keep(`${label} hi`, BOB, 0, label.length), label).toEqual({ mentions: [{ memberId: BOB, at: 0, length: label.length, you: true }] });
    }
    // Someone else's fingerprint group, a longer or shorter name, a member this device cannot place: no mention.
    for (const label of ['@Member 11111', '@Bobby', '@Bo', '@Bob 2222']) expect(keep(`${label} hi`, BOB, 0, label.length), label).toEqual({});
    expect(keepMentions([{ memberId: CAROL, at: 0, length: 6 }], () => true, () => false, { text: '@Carol', knownAs })).toEqual({});
    expect(labelReadsAs('ALICE', known[ALICE]!)).toBe(true);
    expect(labelReadsAs('Alice\u00a0', known[ALICE]!)).toBe(true);
  });

  it('message.send takes mentions only as sorted spans of the text starting with @', () => {
    const parse = (params: unknown): unknown => parseRequest({ channel: CHANNEL, method: 'message.send', params });
    const conversationId = 'c1';
    expect(parse({ conversationId, text: 'hi @Al', mentions: [{ memberId: ALICE, at: 3, length: 3 }] })).toMatchObject({ params: { mentions: [{ memberId: ALICE, at: 3, length: 3 }] } });
    expect(parse({ conversationId, text: 'hi' })).toMatchObject({ params: { text: 'hi' } });
    for (const mentions of [
      [{ memberId: ALICE, at: 0, length: 3 }],
      [{ memberId: ALICE, at: 3, length: 9 }],
      [{ memberId: ALICE, at: 3, length: 3, extra: 1 }],
      [{ memberId: 'not an id', at: 3, length: 3 }],
      [{ memberId: ALICE, at: 3.5, length: 3 }],
      Array.from({ length: MAX_MENTIONS + 1 }, () => ({ memberId: ALICE, at: 3, length: 3 })),
      'no',
    ]) {
      expect(() => parse({ conversationId, text: 'hi @Al', mentions })).toThrow();
    }
  });
});

describe('notification rule', () => {
  const conv = (extra: Partial<ConversationSummary> = {}): ConversationSummary => ({ id: 'c', name: 'Team', status: 'active', unread: 1, memberCount: 3, lastActivity: 1, ...extra });
  const msg = (extra: Partial<MessageView> = {}): MessageView => ({ id: 'm', conversationId: 'c', seq: 1, kind: 'text', text: 'hi', sender: { memberId: BOB, displayName: 'Bob', self: false }, sentAt: 1, status: 'received', ...extra });
  const ON = { enabled: true, content: 'name' as const };
  it('M-3: a mention of us notifies in a muted conversation; other texts there do not; off is off', () => {
    const muted = conv({ mutedUntil: MUTE_ALWAYS });
    expect(new NotificationPolicy().incoming(muted, msg(), ON, 10)).toEqual([]);
    expect(new NotificationPolicy().incoming(muted, msg({ mentions: [{ at: 0, length: 3 }] }), ON, 10)).toEqual([]);
    expect(new NotificationPolicy().incoming(muted, msg({ mentionsYou: true, mentions: [{ at: 0, length: 3, you: true }] }), ON, 10)).toMatchObject([{ kind: 'show', conversationId: 'c' }]);
    expect(new NotificationPolicy().incoming(muted, msg({ mentionsYou: true }), { ...ON, enabled: false }, 10)).toEqual([]);
  });
});
