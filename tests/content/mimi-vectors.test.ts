/**
 * The draft's worked examples (draft-ietf-mimi-content-08, examples/) as
 * vectors: each decodes to what its .edn says (written out below), re-encodes
 * to the same bytes, and has the message id its .edn comment gives, computed
 * from the sender and room URIs of its extensions.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../lib/bytes.ts';
import { decodeContent } from '../../lib/content/decode.ts';
import { encodeContent } from '../../lib/content/encode.ts';
import { messageIdOf } from '../../lib/content/message-id.ts';
import type { MimiContent, NestedPart } from '../../lib/content/types.ts';

const DIR = new URL('./vectors/', import.meta.url);
const cbor = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`${name}.cbor`, DIR)));
const edn = (name: string): string => readFileSync(new URL(`${name}.edn`, DIR), 'utf8');

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const h = hexToBytes;
const ALICE = 'mimi://example.com/u/alice-smith';
const BOB = 'mimi://example.com/u/bob-jones';
const CATHY = 'mimi://example.com/u/cathy-washington';
const ROOM = 'mimi://example.com/r/engineering_team';
const ORIGINAL_ID = '017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4';
const REPLY_ID = '015354973c2b65ca937bf1e035ae53a5ab80e947afa43d46920d4202e5cc0b27';
const REACTION_ID = '0158c4288911e50a8f6be3f47746b6682f10fd91bc8c05557aa589a3157aff68';
const MD = 'text/markdown;variant=GFM-MIMI';
const PLAIN = 'text/plain;charset=utf-8';
const HTML = 'text/html;charset=utf-8';

const single = (disposition: number, contentType: string, content: Uint8Array, language = ''): NestedPart => ({ disposition, language, cardinality: 1, contentType, content });
const multi = (partSemantics: 0 | 1 | 2, parts: NestedPart[], disposition = 1): NestedPart => ({ disposition, language: '', cardinality: 3, partSemantics, parts });

function content(salt: string, from: string, body: NestedPart, more: Partial<MimiContent> = {}): MimiContent {
  return {
    salt: h(salt),
    replaces: null,
    topicId: new Uint8Array(0),
    expires: null,
    inReplyTo: null,
    extensions: new Map<number | string, unknown>([
      [1, from],
      [2, ROOM],
    ]),
    body,
    ...more,
  } as MimiContent;
}

const html = (lang: 'en' | 'fr', cid: number): NestedPart =>
  single(
    1,
    HTML,
    utf8(
      lang === 'en'
        ? `<html><body><h1>Welcome!</h1>\n<img src="cid:${cid}@local.invalid" alt="Welcome image"/>\n</body></html>`
        : `<html><body><h1>Bienvenue!</h1>\n<img src="cid:${cid}@local.invalid" alt="Image bienvenue"/>\n</body></html>`,
    ),
    lang,
  );

/** What each .edn says, written out. */
const EXPECTED: Record<string, MimiContent> = {
  original: content('5eed9406c2545547ab6f09f20a18b003', ALICE, single(1, MD, utf8('Hi everyone, we just shipped release 2.0. __Good  work__!'))),
  reply: content('11a458c73b8dd2cf404db4b378b8fe4d', BOB, single(1, MD, utf8("Right on! _Congratulations_ 'all!")), { inReplyTo: h(ORIGINAL_ID) as never }),
  reaction: content('d37bc0e6a8b4f04e9e6382375f587bf6', CATHY, single(2, PLAIN, h('e29da4')), { inReplyTo: h(ORIGINAL_ID) as never }),
  unlike: content('c5ba86dc9fd272e58ca52ec805b79199', CATHY, { disposition: 2, language: '', cardinality: 0 }, { replaces: h(REACTION_ID) as never, inReplyTo: h(ORIGINAL_ID) as never }),
  edit: content('b8c2e6d8800ecf45df39be6c45f4c042', BOB, single(1, MD, utf8("Right on! _Congratulations_ y'all!")), { replaces: h(REPLY_ID) as never, inReplyTo: h(ORIGINAL_ID) as never }),
  delete: content('0a590d73b2c7761c39168be5ebf7f2e6', BOB, { disposition: 1, language: '', cardinality: 0 }, { replaces: h(REPLY_ID) as never, inReplyTo: h(ORIGINAL_ID) as never }),
  expiring: content('33be993eb39f418f9295afc2ae160d2d', ALICE, single(1, MD, utf8("__*VPN GOING DOWN*__ I'm rebooting the VPN in ten minutes unless anyone objects.")), {
    expires: { relative: false, time: 1644390004 },
  }),
  mention: content('04f290e215d0f82d1750bfa8b7dc089d', CATHY, single(1, MD, utf8('Kudos to [@Alice Smith](mimi://example.com/u/alice-smith) for making the release happen!')), {
    inReplyTo: h(ORIGINAL_ID) as never,
  }),
  'mention-html': content(
    '15d9705fd5bf5e02b0af47c85f8b98fe',
    CATHY,
    single(1, HTML, utf8('<p>Kudos to <a href="mimi://example.com/u/alice-smith">@Alice Smith</a> for making the release happen!</p>')),
    { inReplyTo: h(ORIGINAL_ID) as never },
  ),
  attachment: content('18fac6371e4e53f1aeaf8a013155c166', BOB, {
    disposition: 6,
    language: 'en',
    cardinality: 2,
    contentType: 'video/mp4',
    url: 'https://example.com/storage/8ksB4bSrrRE.mp4',
    expires: 0,
    size: 708234961n,
    encAlg: 1,
    key: h('21399320958a6f4c745dde670d95e0d8'),
    nonce: h('c86cf2c33f21527d1dd76f5b'),
    aad: new Uint8Array(0),
    hashAlg: 1,
    contentHash: h('9ab17a8cf0890baaae7ee016c7312fcc080ba46498389458ee44f0276e783163'),
    description: '2 hours of key signing video',
    filename: 'bigfile.mp4',
  }),
  conferencing: content(
    '678ac6cd54de049c3e9665cd212470fa',
    ALICE,
    {
      disposition: 7,
      language: '',
      cardinality: 2,
      contentType: '',
      url: 'https://example.com/join/12345',
      expires: 0,
      size: 0n,
      encAlg: 0,
      key: new Uint8Array(0),
      nonce: new Uint8Array(0),
      aad: new Uint8Array(0),
      hashAlg: 0,
      contentHash: new Uint8Array(0),
      description: 'Join the Foo 118 conference',
      filename: '',
    },
    { topicId: utf8('Foo 118') },
  ),
  'multipart-1': content(
    '261c953e178af653fe3d42641b91d814',
    ALICE,
    multi(0, [single(1, MD, utf8('# Welcome!')), single(1, 'application/vnd.examplevendor-fancy-im-message', h('dc861ebaa718fd7c3ca159f71a2001'))]),
  ),
  'multipart-2': content(
    '8528dc2d92e4f1944d62042907ab94d0',
    ALICE,
    multi(2, [single(2, PLAIN, h('e29da4')), single(2, PLAIN, h('f09fa5b3')), single(2, PLAIN, h('f09fa49e'))], 2),
  ),
  'multipart-3': content(
    'b8362793168d18c049b882d4642a2274',
    ALICE,
    multi(0, [
      multi(2, [multi(0, [html('en', 5), html('fr', 5)]), single(4, 'image/gif', h('dc861ebaa718fd7c3ca159f71a2001a7'))]),
      multi(2, [multi(0, [html('en', 10), html('fr', 10)]), single(4, 'image/png', h('fa444237451a05a72bb0f67037cc1669'))]),
    ]),
  ),
};

/** The message id in an .edn's header comment: `# message ID = h'…` over two lines. */
function ednMessageId(text: string): string {
  const m = /message ID = h'([0-9a-f]+)\s*\n#\s*([0-9a-f]+)'/.exec(text);
  if (m === null) throw new Error('no message id in the .edn');
  return m[1]! + m[2]!;
}

const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith('.cbor'))
  .map((f) => f.slice(0, -'.cbor'.length))
  .sort();

describe('MIMI content vectors (draft-ietf-mimi-content-08 examples)', () => {
  it('every copied example has its expected structure written out', () => {
    expect(NAMES).toEqual(Object.keys(EXPECTED).sort());
    expect(NAMES).toHaveLength(14);
  });

  for (const name of NAMES) {
    describe(name, () => {
      it('decodes to what its .edn says', () => {
        expect(decodeContent(cbor(name))).toEqual(EXPECTED[name]);
      });

      it('re-encodes to the same bytes, and the written-out structure encodes to them too', () => {
        const bytes = cbor(name);
        expect(bytesToHex(encodeContent(decodeContent(bytes)))).toBe(bytesToHex(bytes));
        expect(bytesToHex(encodeContent(EXPECTED[name]!))).toBe(bytesToHex(bytes));
      });

      it('has the message id its .edn gives (§2.3)', () => {
        const bytes = cbor(name);
        const c = decodeContent(bytes);
        const id = messageIdOf(c.extensions.get(1) as string, c.extensions.get(2) as string, bytes, c.salt);
        expect(bytesToHex(id)).toBe(ednMessageId(edn(name)));
      });
    });
  }

  it('the references between examples are the ids of the messages they name', () => {
    const idOf = (name: string): string => {
      const b = cbor(name);
      const c = decodeContent(b);
      return bytesToHex(messageIdOf(c.extensions.get(1) as string, c.extensions.get(2) as string, b, c.salt));
    };
    expect(idOf('original')).toBe(ORIGINAL_ID);
    expect(idOf('reply')).toBe(REPLY_ID);
    expect(idOf('reaction')).toBe(REACTION_ID);
  });

  it('a different sender or room gives a different id (the URIs are hashed)', () => {
    const b = cbor('original');
    const c = decodeContent(b);
    const base = bytesToHex(messageIdOf(ALICE, ROOM, b, c.salt));
    expect(bytesToHex(messageIdOf(BOB, ROOM, b, c.salt))).not.toBe(base);
    expect(bytesToHex(messageIdOf(ALICE, `${ROOM}x`, b, c.salt))).not.toBe(base);
  });
});
