/**
 * messages.json (README-upstream "Messages"): every serialized struct decodes
 * with its codec and re-encodes to exactly the same bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode, type Codec } from '../../../lib/mls/codec/codec.ts';
import { bytesEqual, bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { commitCodec } from '../../../lib/mls/group/commit.ts';
import { mlsMessageCodec, WireFormat, ContentType, type MLSMessage } from '../../../lib/mls/framing/framing.ts';
import {
  addCodec,
  externalInitCodec,
  groupContextExtensionsCodec,
  preSharedKeyCodec,
  reInitCodec,
  removeCodec,
  updateCodec,
} from '../../../lib/mls/group/proposals.ts';
import { ratchetTreeCodec } from '../../../lib/mls/tree/tree-node.ts';
import { groupSecretsCodec } from '../../../lib/mls/join/welcome.ts';

type Case = Record<string, string>;
const cases = JSON.parse(readFileSync(new URL('../../vectors/data/messages.json', import.meta.url), 'utf8')) as Case[];

function roundTrip<T>(codec: Codec<T>, hex: string): T {
  const bytes = hexToBytes(hex);
  const copy = bytes.slice();
  const value = decode(codec, bytes);
  expect(bytesToHex(encode(codec, value))).toBe(hex);
  expect(bytesEqual(bytes, copy)).toBe(true); // decoding never mutates its input
  return value;
}

/** An MLSMessage field whose wire format (and content type) the README fixes. */
function message(hex: string, wireFormat: number, contentType?: number): void {
  const m: MLSMessage = roundTrip(mlsMessageCodec, hex);
  expect(m.wireFormat).toBe(wireFormat);
  if (contentType !== undefined) {
    expect(m.wireFormat === WireFormat.publicMessage && m.publicMessage.content.contentType).toBe(contentType);
  }
}

const fields: Record<string, (hex: string) => void> = {
  mls_welcome: (h) => message(h, WireFormat.welcome),
  mls_group_info: (h) => message(h, WireFormat.groupInfo),
  mls_key_package: (h) => message(h, WireFormat.keyPackage),
  ratchet_tree: (h) => void roundTrip(ratchetTreeCodec, h),
  group_secrets: (h) => void roundTrip(groupSecretsCodec, h),
  add_proposal: (h) => void roundTrip(addCodec, h),
  update_proposal: (h) => void roundTrip(updateCodec, h),
  remove_proposal: (h) => void roundTrip(removeCodec, h),
  pre_shared_key_proposal: (h) => void roundTrip(preSharedKeyCodec, h),
  re_init_proposal: (h) => void roundTrip(reInitCodec, h),
  external_init_proposal: (h) => void roundTrip(externalInitCodec, h),
  group_context_extensions_proposal: (h) => void roundTrip(groupContextExtensionsCodec, h),
  commit: (h) => void roundTrip(commitCodec, h),
  public_message_application: (h) => message(h, WireFormat.publicMessage, ContentType.application),
  public_message_proposal: (h) => message(h, WireFormat.publicMessage, ContentType.proposal),
  public_message_commit: (h) => message(h, WireFormat.publicMessage, ContentType.commit),
  private_message: (h) => message(h, WireFormat.privateMessage),
};

describe('messages.json', () => {
  it('has cases and only the documented fields', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(Object.keys(c).sort()).toEqual(Object.keys(fields).sort());
  });

  cases.forEach((c, i) => {
    it(`case ${i}: every struct decodes and re-encodes byte-identically`, () => {
      for (const [name, check] of Object.entries(fields)) {
        const hex = c[name];
        expect(hex, name).toBeTypeOf('string');
        try {
          check(hex!);
        } catch (err) {
          throw new Error(`${name}: ${String(err)}`, { cause: err });
        }
      }
    });
  });
});
