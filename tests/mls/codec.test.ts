/**
 * Strictness of the TLS codec (RFC 9420 §2.1) and of the struct decoders'
 * closed enums. Every malformed input is a typed `DecodeError` with a precise
 * code: trailing bytes, truncation, overlong lengths, non-minimal or reserved
 * varints, sizes above the cap, bad optional flags, and enum values outside
 * their defined set. Open registries (extension types, capability lists) are
 * the exception the RFC requires: unknown values there decode.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LENGTH,
  decode,
  encode,
  MAX_VARINT,
  opaqueCodec,
  optionalCodec,
  Reader,
  u16Codec,
  u32Codec,
  u8Codec,
  vectorCodec,
  Writer,
  type Codec,
} from '../../lib/mls/codec/codec.ts';
import { CredentialType, credentialCodec } from '../../lib/mls/tree/credential.ts';
import { DecodeError, type DecodeErrorCode } from '../../lib/mls/errors.ts';
import { extensionsCodec } from '../../lib/mls/group/extensions.ts';
import {
  authenticatedContentCodec,
  ContentType,
  decodePrivateMessageContent,
  encodePrivateMessageContent,
  mlsMessageCodec,
  privateMessageCodec,
  senderCodec,
  SenderType,
  WireFormat,
  type PrivateMessage,
} from '../../lib/mls/framing/framing.ts';
import { groupContextCodec } from '../../lib/mls/group/group-context.ts';
import { capabilitiesCodec, LeafNodeSource, leafNodeCodec, type LeafNodeIn } from '../../lib/mls/tree/leaf-node.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import { proposalCodec, proposalOrRefCodec, ProposalOrRefType, ProposalType } from '../../lib/mls/group/proposals.ts';
import { NodeType, nodeCodec } from '../../lib/mls/tree/tree-node.ts';

function expectDecodeError(fn: () => unknown, code: DecodeErrorCode, rule?: string): DecodeError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DecodeError);
  const e = caught as DecodeError;
  expect(e.code).toBe(code);
  if (rule !== undefined) expect(e.message).toContain(`[${rule}]`);
  return e;
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
/** Replace `value.length` bytes at `offset` of a copy of `buf`. */
function patch(buf: Uint8Array, offset: number, ...value: number[]): Uint8Array {
  const out = buf.slice();
  out.set(value, offset);
  return out;
}

describe('codec strictness (§2.1)', () => {
  it('trailing bytes are a DecodeError', () => {
    expectDecodeError(() => decode(u8Codec, bytes(1, 2)), 'trailing-bytes');
    const gc = encode(groupContextCodec, {
      version: ProtocolVersion.mls10,
      cipherSuite: 1,
      groupId: bytes(1),
      epoch: 0n,
      treeHash: bytes(),
      confirmedTranscriptHash: bytes(),
      extensions: [],
    });
    expectDecodeError(() => decode(groupContextCodec, Uint8Array.of(...gc, 0)), 'trailing-bytes');
  });

  it('truncated input is a DecodeError', () => {
    expectDecodeError(() => decode(u32Codec, bytes(1, 2, 3)), 'truncated');
    expectDecodeError(() => decode(u16Codec, bytes()), 'truncated');
    expectDecodeError(() => decode(opaqueCodec, bytes()), 'truncated');
    expectDecodeError(() => decode(opaqueCodec, bytes(0x40)), 'truncated'); // half a 2-byte varint
  });

  it('a length running past the input is overlong-length', () => {
    expectDecodeError(() => decode(opaqueCodec, bytes(5, 1, 2)), 'overlong-length');
    expectDecodeError(() => decode(vectorCodec(u8Codec), bytes(0x40, 0x40, 1)), 'overlong-length');
  });

  it('an item may not run past the end of its vector', () => {
    // vector of u16 whose declared byte length (3) is not a whole number of items
    expectDecodeError(() => decode(vectorCodec(u16Codec), bytes(3, 0, 1, 0, 2)), 'truncated');
    // a nested opaque that claims more than its enclosing vector holds
    expectDecodeError(() => decode(vectorCodec(opaqueCodec), bytes(2, 3, 9, 9, 9)), 'overlong-length');
  });

  it('non-minimal varints are rejected', () => {
    expectDecodeError(() => decode(opaqueCodec, bytes(0x40, 0x00)), 'invalid-varint'); // 0 in 2 bytes
    expectDecodeError(() => decode(opaqueCodec, bytes(0x40, 0x3f, ...new Uint8Array(63))), 'invalid-varint');
    expectDecodeError(() => decode(opaqueCodec, bytes(0x80, 0, 0, 1, 7)), 'invalid-varint');
    expectDecodeError(() => decode(opaqueCodec, bytes(0x80, 0, 0x3f, 0xff)), 'invalid-varint'); // 16383 in 4 bytes
  });

  it('the reserved varint prefix 0b11 is rejected', () => {
    expectDecodeError(() => decode(opaqueCodec, bytes(0xc0, 0, 0, 0, 0, 0, 0, 0)), 'invalid-varint');
    expectDecodeError(() => decode(opaqueCodec, bytes(0xff)), 'invalid-varint');
  });

  it('every varint round-trips minimally and every longer encoding of it is rejected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_VARINT }), (v) => {
        const enc = new Writer().varint(v).finish();
        const r = new Reader(enc);
        expect(r.varint()).toBe(v);
        r.finish();
        const forms: Uint8Array[] = [];
        if (v < 0x4000) forms.push(bytes(0x40 | (v >> 8), v & 0xff));
        if (v < 0x40000000) forms.push(bytes(0x80 | (v >>> 24), (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff));
        for (const f of forms) {
          if (f.length === enc.length) continue; // that is the minimal form itself
          expectDecodeError(() => new Reader(f).varint(), 'invalid-varint');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the encoder refuses values no varint can hold', () => {
    expect(() => new Writer().varint(MAX_VARINT + 1)).toThrow(RangeError);
    expect(() => new Writer().varint(-1)).toThrow(RangeError);
  });

  it('sizes above the configurable cap are too-large', () => {
    const body = new Uint8Array(100);
    const wire = encode(opaqueCodec, body);
    expect(decode(opaqueCodec, wire, { maxLength: 100 }).length).toBe(100);
    expectDecodeError(() => decode(opaqueCodec, wire, { maxLength: 99 }), 'too-large');
    // the cap reaches nested vectors too
    const nested = encode(vectorCodec(opaqueCodec), [body]);
    expectDecodeError(() => decode(vectorCodec(opaqueCodec), nested, { maxLength: 101 }), 'too-large');
    // and the default cap applies without options, before the input is even checked
    const huge = new Writer().varint(DEFAULT_MAX_LENGTH + 1).finish();
    expectDecodeError(() => decode(opaqueCodec, huge), 'too-large');
  });

  it('an optional presence octet other than 0 or 1 is bad-value', () => {
    const opt = optionalCodec(u8Codec);
    expect(decode(opt, bytes(0))).toBeUndefined();
    expect(decode(opt, bytes(1, 7))).toBe(7);
    expectDecodeError(() => decode(opt, bytes(2, 7)), 'bad-value');
  });

  it('a foreign exception inside a decoder surfaces as a DecodeError keeping its cause', () => {
    const broken: Codec<number> = {
      encode: () => undefined,
      decode: () => {
        throw new TypeError('boom');
      },
    };
    const e = expectDecodeError(() => decode(broken, bytes()), 'bad-value');
    expect(e.cause).toBeInstanceOf(TypeError);
  });
});

describe('closed enums are decode errors', () => {
  const pm: PrivateMessage = {
    groupId: bytes(),
    epoch: 0n,
    contentType: ContentType.application,
    authenticatedData: bytes(),
    encryptedSenderData: bytes(),
    ciphertext: bytes(),
  };
  const pmBytes = encode(privateMessageCodec, pm); // content_type at offset 1 + 8
  const leaf: LeafNodeIn = {
    encryptionKey: bytes(),
    signatureKey: bytes(),
    credential: { credentialType: CredentialType.basic, identity: bytes() },
    capabilities: { versions: [], cipherSuites: [], extensions: [], proposals: [], credentials: [] },
    leafNodeSource: LeafNodeSource.update,
    extensions: [],
    signature: bytes(),
  };
  const leafBytes = encode(leafNodeCodec, leaf); // leaf_node_source at offset 1+1+3+5
  const mlsBytes = encode(mlsMessageCodec, {
    version: ProtocolVersion.mls10,
    wireFormat: WireFormat.privateMessage,
    privateMessage: pm,
  });

  it('V-FRAME-1: content_type outside application/proposal/commit', () => {
    expect(decode(privateMessageCodec, pmBytes)).toEqual(pm);
    for (const v of [0, 4, 255]) expectDecodeError(() => decode(privateMessageCodec, patch(pmBytes, 9, v)), 'bad-enum', 'V-FRAME-1');
  });

  it('V-FRAME-2: sender_type outside member..new_member_commit', () => {
    expect(decode(senderCodec, bytes(SenderType.newMemberCommit))).toEqual({ senderType: SenderType.newMemberCommit });
    for (const v of [0, 5, 255]) expectDecodeError(() => decode(senderCodec, bytes(v, 0, 0, 0, 0)), 'bad-enum', 'V-FRAME-2');
  });

  it('V-FRAME-3: AuthenticatedContent only for public/private message wire formats', () => {
    const ac = encode(authenticatedContentCodec, {
      wireFormat: WireFormat.publicMessage,
      content: {
        groupId: bytes(),
        epoch: 1n,
        sender: { senderType: SenderType.newMemberProposal },
        authenticatedData: bytes(),
        contentType: ContentType.application,
        applicationData: bytes(1, 2),
      },
      auth: { signature: bytes(3) },
    });
    expect(() => decode(authenticatedContentCodec, ac)).not.toThrow();
    for (const v of [0, WireFormat.welcome, WireFormat.keyPackage, 0x0a0a]) {
      expectDecodeError(() => decode(authenticatedContentCodec, patch(ac, 0, v >> 8, v & 0xff)), 'bad-enum', 'V-FRAME-3');
    }
  });

  it('V-FRAME-4: non-zero PrivateMessageContent padding is malformed', () => {
    const plain = encodePrivateMessageContent({
      contentType: ContentType.application,
      applicationData: bytes(1, 2, 3),
      auth: { signature: bytes(9) },
      paddingLength: 8,
    });
    expect(decodePrivateMessageContent(plain, ContentType.application).paddingLength).toBe(8);
    for (const at of [plain.length - 8, plain.length - 1]) {
      expectDecodeError(() => decodePrivateMessageContent(patch(plain, at, 1), ContentType.application), 'bad-value', 'V-FRAME-4');
    }
  });

  it('V-MSG-1: MLSMessage wire_format must be known', () => {
    expect(decode(mlsMessageCodec, mlsBytes).wireFormat).toBe(WireFormat.privateMessage);
    for (const v of [0, 6, 0x0a0a, 0xffff]) {
      expectDecodeError(() => decode(mlsMessageCodec, patch(mlsBytes, 2, v >> 8, v & 0xff)), 'bad-enum', 'V-MSG-1');
    }
  });

  it('V-VERSION-1: only mls10 where the version fixes the layout', () => {
    for (const v of [0, 2, 0xffff]) {
      expectDecodeError(() => decode(mlsMessageCodec, patch(mlsBytes, 0, v >> 8, v & 0xff)), 'bad-enum', 'V-VERSION-1');
    }
  });

  it('V-CRED-1: unknown (and GREASE) credential types are rejected', () => {
    const basic = encode(credentialCodec, { credentialType: CredentialType.basic, identity: bytes(7) });
    for (const v of [0, 3, 0x0a0a]) {
      expectDecodeError(() => decode(credentialCodec, patch(basic, 0, v >> 8, v & 0xff)), 'bad-enum', 'V-CRED-1');
    }
  });

  it('V-LEAF-SRC-1: leaf_node_source outside key_package/update/commit', () => {
    expect(leafBytes[10]).toBe(LeafNodeSource.update);
    expect(decode(leafNodeCodec, leafBytes)).toEqual(leaf);
    for (const v of [0, 4]) expectDecodeError(() => decode(leafNodeCodec, patch(leafBytes, 10, v)), 'bad-enum', 'V-LEAF-SRC-1');
  });

  it('V-NODE-1: node_type outside leaf/parent', () => {
    const node = encode(nodeCodec, { nodeType: NodeType.leaf, leafNode: leaf });
    for (const v of [0, 3]) expectDecodeError(() => decode(nodeCodec, patch(node, 0, v)), 'bad-enum', 'V-NODE-1');
  });

  it('V-PROP-1: unknown (and GREASE) proposal types are rejected', () => {
    const remove = encode(proposalCodec, { proposalType: ProposalType.remove, remove: { removed: 3 as never } });
    expect(decode(proposalCodec, remove)).toEqual({ proposalType: ProposalType.remove, remove: { removed: 3 } });
    for (const v of [0, 8, 0x0a0a, 0xffff]) {
      expectDecodeError(() => decode(proposalCodec, patch(remove, 0, v >> 8, v & 0xff)), 'bad-enum', 'V-PROP-1');
    }
  });

  it('V-POR-1: ProposalOrRefType outside proposal/reference', () => {
    const ref = encode(proposalOrRefCodec, { type: ProposalOrRefType.reference, reference: bytes(1, 2) });
    for (const v of [0, 3]) expectDecodeError(() => decode(proposalOrRefCodec, patch(ref, 0, v)), 'bad-enum', 'V-POR-1');
  });
});

describe('open registries decode unknown values (§13.3, §13.5 GREASE)', () => {
  it('extensions of unknown and GREASE types keep their data', () => {
    const exts = [
      { extensionType: 0x0a0a, extensionData: bytes(1) },
      { extensionType: 0xff00, extensionData: bytes() },
    ];
    expect(decode(extensionsCodec, encode(extensionsCodec, exts))).toEqual(exts);
  });

  it('capability lists keep unknown values', () => {
    const caps = {
      versions: [1, 0x0a0a],
      cipherSuites: [1, 0x1a1a],
      extensions: [0x2a2a],
      proposals: [0x3a3a],
      credentials: [0x4a4a],
    };
    expect(decode(capabilitiesCodec, encode(capabilitiesCodec, caps))).toEqual(caps);
  });
});

describe('Writer.vector in place', () => {
  it('encodes bodies across every prefix size exactly like opaque()', () => {
    for (const n of [0, 1, 63, 64, 100, 16383, 16384, 70000]) {
      const items = Array.from({ length: n }, (_, i) => i & 0xff);
      const a = new Writer(1).u8(7).vector(items, (w, x) => void w.u8(x)).u8(9).finish();
      const b = new Writer().u8(7).opaque(Uint8Array.from(items)).u8(9).finish();
      expect(a).toEqual(b);
      const r = new Reader(a);
      expect(r.u8()).toBe(7);
      expect(r.vector((x) => x.u8())).toEqual(items);
      expect(r.u8()).toBe(9);
      r.finish();
    }
  });

  it('nests vectors of varying sizes', () => {
    const outer = [[1, 2], Array.from({ length: 300 }, () => 5), []];
    const bytes = new Writer().vector(outer, (w, inner) => void w.vector(inner, (w2, x) => void w2.u8(x))).finish();
    const back = new Reader(bytes).vector((r) => r.vector((r2) => r2.u8()));
    expect(back).toEqual(outer);
  });

  it('rejects a vector item that consumes no bytes instead of hanging', () => {
    const codec = { encode: () => undefined, decode: (r: Reader) => r.vector(() => 0) };
    expect(() => decode(codec, new Uint8Array([1, 0]))).toThrowError(expect.objectContaining({ code: 'bad-value' }));
  });
});
