/**
 * Attack: a hostile member sends malformed or oversized MIMI content, hoping
 * to crash the other devices' backgrounds, wedge the conversation (a
 * delivery that fails forever is delivered again forever), fill their
 * stores, or slip something past the rules: a reaction thousands of
 * characters long, parts nested a hundred levels deep, CBOR whose length
 * prefixes claim 2^64 bytes or items, an array nested 5000 deep, content
 * types we do not show (HTML, an image, an unknown type, an attachment),
 * text that is not UTF-8, bytes after the content, a payload that is
 * neither MIMI nor JSON, an empty one, and JSON bookkeeping that does not
 * parse. (What fits in one message: the relay carries at most 11 KiB.)
 *
 * Defence: mimi-wire.ts reads every payload strictly (lib/content/decode.ts
 * throws only ContentError, C-SIZE-1, C-CBOR-1, C-PART-1, ...); a content
 * that fails or means nothing we show becomes ONE record from its MLS
 * sender, "This message can't be shown" (unshowable), and a reaction that is
 * not one emoji is not a reaction (R-WIRE-2). JSON that does not parse is
 * ignored. Each delivery is handled and acknowledged; later messages flow;
 * no fault of ours is reported.
 */
import { describe, expect, it, vi } from 'vitest';
import { concatBytes } from '../../lib/bytes.ts';
import { messageIdFrom } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import { Cardinality, Disposition, PartSemantics, type NestedPart } from '../../lib/content/types.ts';
import type { AppMessage } from '../../lib/background/app-messages.ts';
import { withScenario } from './support/with-scenario.ts';
import { content, find, marker, page, rawContent, sendRaw } from './support/rich-attack.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const single = (contentType: string, bytes: Uint8Array, disposition: number = Disposition.render): NestedPart => ({
  disposition,
  language: '',
  cardinality: Cardinality.single,
  contentType,
  content: bytes,
});

/** A MIMI content's first six items, valid (salt, replaces, topicId, expires, inReplyTo, extensions), before its body. */
const HEAD = Uint8Array.from([0x87, 0x50, ...new Uint8Array(16).fill(7), 0xf6, 0x40, 0xf6, 0xf6, 0xa0]);
/** A CBOR head claiming 2^64-1 of `major` (bytes, text, array, map). */
const giant = (major: number): Uint8Array => Uint8Array.from([(major << 5) | 27, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Parts nested `depth` levels deep (the draft allows 4). */
function nested(depth: number): NestedPart {
  let p: NestedPart = single('text/plain', utf8('the bottom'));
  for (let i = 1; i < depth; i++) {
    p = { disposition: Disposition.render, language: '', cardinality: Cardinality.multi, partSemantics: PartSemantics.chooseOne, parts: [p, single('text/plain', utf8('x'))] };
  }
  return p;
}

describe('a member sends malformed or oversized content', () => {
  const s = withScenario();

  it('each shows once as "This message can\'t be shown" from her, nothing else changes, and later messages flow', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    const target = await marker(s.alice, devices, s.conv, 'React to this');
    const onIt = messageIdFrom(target.id)!;
    const errors = vi.spyOn(console, 'error');

    const contents = {
      'a reaction of 1800 emoji': content({ inReplyTo: onIt, body: single('text/plain;charset=utf-8', utf8('🎉'.repeat(1800)), Disposition.reaction) }),
      'a reaction of 8000 letters': content({ inReplyTo: onIt, body: single('text/plain;charset=utf-8', utf8('A'.repeat(8000)), Disposition.reaction) }),
      'parts nested 100 levels': content({ body: nested(100) }),
      'parts nested 5 levels': content({ body: nested(5) }),
      'an array nested 5000 deep': rawContent(concatBytes(HEAD, new Uint8Array(5000).fill(0x81), Uint8Array.of(0x00))),
      'a byte string of 2^64-1 bytes': rawContent(concatBytes(HEAD, Uint8Array.of(0x85, 0x01, 0x60, 0x01, 0x6a), utf8('text/plain'), giant(2))),
      'a text of 2^64-1 bytes': rawContent(concatBytes(HEAD, Uint8Array.of(0x85, 0x01, 0x60, 0x01), giant(3))),
      'an array of 2^64-1 parts': rawContent(concatBytes(HEAD, Uint8Array.of(0x85, 0x01, 0x60, 0x03, 0x00), giant(4))),
      'a map of 2^64-1 extensions': rawContent(concatBytes(HEAD.subarray(0, HEAD.length - 1), giant(5))),
      'a salt of 2^64-1 bytes': rawContent(concatBytes(Uint8Array.of(0x87), giant(2))),
      HTML: content({ body: single('text/html', utf8('<img src=x onerror=alert(1)>')) }),
      'an image': content({ body: single('image/png', Uint8Array.of(0x89, 0x50, 0x4e, 0x47)) }),
      'an unknown type': content({ body: single('application/x-microchat-evil', utf8('boom')) }),
      'text in Latin-1': content({ body: single('text/plain;charset=iso-8859-1', Uint8Array.of(0x63, 0x61, 0x66, 0xe9)) }),
      'text that is not UTF-8': content({ body: single('text/plain', Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0xff)) }),
      'an attachment': content({
        body: {
          disposition: Disposition.attachment,
          language: '',
          cardinality: Cardinality.external,
          contentType: 'application/pdf',
          url: 'https://evil.example/steal',
          expires: 0,
          size: 0xffff_ffff_ffff_ffffn,
          encAlg: 2,
          key: new Uint8Array(32),
          nonce: new Uint8Array(12),
          aad: new Uint8Array(0),
          hashAlg: 1,
          contentHash: new Uint8Array(32),
          description: '',
          filename: '../../etc/passwd',
        },
      }),
      'bytes after the content': (() => {
        const c = content({ body: single('text/plain', utf8('looks fine')) });
        return { ...c, bytes: concatBytes(c.bytes, Uint8Array.of(0x00)) };
      })(),
      'neither MIMI nor JSON': rawContent(utf8('hello, plain bytes')),
      'an empty payload': rawContent(new Uint8Array(0)),
    };
    for (const c of Object.values(contents)) await sendRaw(s.mallory, s.conv, c);
    // JSON bookkeeping that does not parse, or is not ours: ignored, as before MIMI content.
    for (const j of ['{', '{"v":1,"t":"text"}', `{"v":1,"t":"text","id":"x","at":1,"text":"${'B'.repeat(9000)}"}`, '{"v":2,"t":"evil"}']) {
      await sendRaw(s.mallory, s.conv, rawContent(utf8(j)));
    }
    await sendRaw(s.mallory, s.conv, { v: 1, t: 'rename', id: 'x', at: -1, name: '' } as unknown as AppMessage);
    const after = await marker(s.mallory, devices, s.conv, 'still here');

    const names = Object.keys(contents);
    for (const d of [s.alice, s.bob]) {
      const msgs = await page(d, s.conv);
      const since = msgs.slice(msgs.findIndex((m) => m.id === target.id) + 1);
      // One unreadable message per content, in order, from Mallory; then her text. Nothing from the JSON.
      expect(since.map((m) => [m.sender.displayName, m.unshowable === true ? 'unshowable' : m.text]), d.name).toEqual([
        ...names.map(() => ['Mallory', 'unshowable']),
        ['Mallory', 'still here'],
      ]);
      for (const m of since.slice(0, -1)) expect(m.text).toBe(text.CANT_SHOW);
      // None of them reacted, and the conversation kept its name.
      expect((await find(d, s.conv, target.id))!.reactions).toBeUndefined();
      expect(d.app.snapshot.conversations.find((c) => c.id === s.conv)?.name).toBe('Plans');
      expect(msgs.find((m) => m.id === after.id)?.text).toBe('still here');
    }
    // No fault of ours was reported (a delivery refused for another reason is retried and shows in the order above).
    expect(errors.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('a bug while') || m.includes('fault of ours'))).toEqual([]);
    errors.mockRestore();

    // The conversation carries on both ways.
    await marker(s.bob, devices, s.conv, 'and we still talk');
    await s.alice.app.handlers['message.react']({ conversationId: s.conv, messageId: after.id, emoji: '👍' });
    await marker(s.alice, devices, s.conv, 'after the reaction');
    expect((await find(s.bob, s.conv, after.id))!.reactions).toEqual([{ emoji: '👍', count: 1, people: ['Alice'], mine: false }]);
  });
});
