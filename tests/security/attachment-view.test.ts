/**
 * Attack: a hostile member sends a file whose message is built to hurt the
 * recipients' view (issue #20). The content is real MIMI content from a
 * member (it decrypts and authenticates: the attacker is in the group), so
 * only our checks stand between it and the screen:
 *   - a preview (thumbnail) that is huge, malformed, or of another type
 *     (SVG with script, HTML, PNG bytes labelled WebP) to be decoded or
 *     rendered by the view;
 *   - a file name with path separators (to be saved outside the downloads
 *     folder), a right-to-left override (to disguise "exe" as "pdf"),
 *     control characters, 10 KB of name;
 *   - a content type "text/html" (to be rendered as a page in the extension's
 *     origin, where it could talk to the background).
 *
 * Defence: attachment-part.ts ATT-THUMB-1 (a preview is at most 8 KiB and
 * is the JPEG or WebP it says, by signature; otherwise it is dropped and the
 * file stays a card), ATT-NAME-1 (a name only), ATT-TYPE-1 (a label only),
 * ATT-PART-1 (an external part we can fetch, else "can't be shown");
 * ImagePreview.svelte shows only those two types as an <img>; Save always
 * hands the bytes over as application/octet-stream with the safe name as
 * the download name. Each case is checked here from the bytes a member
 * sends to the AttachmentView the recipient's view gets; what the view then
 * renders of the same cases (no image, no page, a download) is in
 * tests/view/attachments.test.ts ("hostile input").
 */
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { encodeContent } from '../../lib/content/encode.ts';
import { Cardinality, Disposition, PartSemantics, type ExternalPart, type MimiContent, type NestedPart } from '../../lib/content/types.ts';
import { MAX_THUMBNAIL_BYTES, safeFileName } from '../../lib/background/attachment-part.ts';
import { attachmentRecord, attachmentView } from '../../lib/background/attachment-record.ts';
import { readContent } from '../../lib/background/mimi-wire.ts';
import type { AttachmentView } from '../../lib/protocol/attachments.ts';
import { externalPart } from './support/external-part.ts';

const MALLORY = 'M'.repeat(22);
const CONV = toB64(new Uint8Array(32).fill(9));

function withPreview(type: string, data: Uint8Array, ext: ExternalPart = externalPart()): NestedPart {
  return {
    disposition: Disposition.attachment,
    language: '',
    cardinality: Cardinality.multi,
    partSemantics: PartSemantics.singleUnit,
    parts: [ext, { disposition: Disposition.preview, language: '', cardinality: Cardinality.single, contentType: type, content: data }],
  };
}

/** What Mallory's modified client sends, as Bob's background reads it, down to the view. */
function received(body: NestedPart): AttachmentView | 'unshowable' {
  const c: MimiContent = { salt: new Uint8Array(16).fill(7), replaces: null, topicId: new Uint8Array(0), expires: null, inReplyTo: null, extensions: new Map(), body };
  const { intent } = readContent(encodeContent(c), MALLORY, CONV);
  if (intent.kind === 'unshowable') return 'unshowable';
  expect(intent.kind).toBe('attachment');
  return attachmentView(attachmentRecord((intent as Extract<typeof intent, { kind: 'attachment' }>).file));
}

function webp(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(new TextEncoder().encode('RIFF'), 0);
  out.set(new TextEncoder().encode('WEBPVP8 '), 8);
  return out;
}

describe('a hostile member’s preview', () => {
  const cases: [string, string, Uint8Array][] = [
    ['one just over the cap', 'image/webp', webp(MAX_THUMBNAIL_BYTES + 1)],
    ['SVG with a script', 'image/svg+xml', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['HTML', 'text/html', new TextEncoder().encode('<html><script>chrome.runtime.sendMessage({})</script></html>')],
    ['PNG bytes labelled WebP', 'image/webp', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])],
    ['random bytes labelled JPEG', 'image/jpeg', new Uint8Array(500).fill(0x41)],
    ['an empty one', 'image/jpeg', new Uint8Array(0)],
  ];
  for (const [name, type, data] of cases) {
    it(`${name}: dropped; the file still shows as a card`, () => {
      const v = received(withPreview(type, data));
      expect(v).not.toBe('unshowable');
      expect((v as AttachmentView).preview).toBeUndefined();
      expect((v as AttachmentView).name).toBe('report.pdf');
    });
  }

  it('a huge one (1 MiB of valid-looking WebP): the content decoder refuses the whole message as too large', () => {
    expect(received(withPreview('image/webp', webp(1024 * 1024)))).toBe('unshowable');
  });

  it('a small JPEG that is what it says is kept, as image/jpeg', () => {
    const jpeg = new Uint8Array(400);
    jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
    const v = received(withPreview('IMAGE/JPEG', jpeg)) as AttachmentView;
    expect(v.preview).toEqual({ type: 'image/jpeg', data: toB64(jpeg) });
  });
});

describe('a hostile member’s file name', () => {
  it.each([
    ['../../../.bashrc', '.bashrc'],
    ['..\\..\\Windows\\System32\\evil.dll', 'evil.dll'],
    ['/etc/passwd', 'passwd'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['\u2067secret\u2069.txt', 'secret.txt'],
    ['a\u0000b\u0007c\nd.txt', 'abcd.txt'],
    ['con:<>|?*.txt', 'con______.txt'],
    ['..', 'file'],
    ['', 'file'],
    ['/', 'file'],
  ])('%j is shown and saved as %j', (raw, safe) => {
    expect(safeFileName(raw)).toBe(safe);
    const v = received(externalPart({ filename: raw })) as AttachmentView;
    expect(v.name).toBe(safe);
  });

  it('10 KB of name is cut to 120 characters', () => {
    const v = received(externalPart({ filename: 'x'.repeat(10_000) + '.pdf' })) as AttachmentView;
    expect(v.name.length).toBe(120);
  });
});

describe('a hostile member’s content type', () => {
  it('"text/html" is a label, with its parameters gone', () => {
    const v = received(externalPart({ contentType: 'Text/HTML; charset=utf-8', filename: 'page.html' })) as AttachmentView;
    expect(v.type).toBe('text/html');
    expect(v.name).toBe('page.html');
  });

  it('a content type that is not type/subtype becomes application/octet-stream', () => {
    expect((received(externalPart({ contentType: '<script>' })) as AttachmentView).type).toBe('application/octet-stream');
    expect((received(externalPart({ contentType: 'x'.repeat(300) + '/y' })) as AttachmentView).type).toBe('application/octet-stream');
  });
});

describe('an external part we could not fetch or decrypt is not a file (ATT-PART-1)', () => {
  it.each([
    ['another cipher', { encAlg: 1 }],
    ['another hash', { hashAlg: 2 }],
    ['a 16-byte key', { key: new Uint8Array(16) }],
    ['a short hash', { contentHash: new Uint8Array(20) }],
    ['a size of 2^64 - 1', { size: 0xffff_ffff_ffff_ffffn }],
    ['a size no file encrypts to', { size: 5n }],
    ['a size of zero', { size: 0n }],
    ['a 3000-character url', { url: 'http://x/' + 'a'.repeat(3000) }],
  ] as [string, Partial<ExternalPart>][])('%s: "This message can’t be shown"', (_name, over) => {
    expect(received(externalPart(over))).toBe('unshowable');
  });
});
