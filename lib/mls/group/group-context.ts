/**
 * GroupContext (RFC 9420 §8.1): the state summary every member agrees on in an
 * epoch; its encoding feeds the key schedule and is signed into handshake
 * messages (FramedContentTBS) and GroupInfo.
 */
import type { Codec } from '../codec/codec.ts';
import { extensionsCodec, type Extension } from './extensions.ts';
import { ProtocolVersion, readProtocolVersion } from '../framing/protocol-version.ts';

export interface GroupContext {
  readonly version: ProtocolVersion;
  readonly cipherSuite: number;
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly treeHash: Uint8Array;
  readonly confirmedTranscriptHash: Uint8Array;
  readonly extensions: readonly Extension[];
}

export const groupContextCodec: Codec<GroupContext> = {
  encode(w, v) {
    w.u16(v.version);
    w.u16(v.cipherSuite);
    w.opaque(v.groupId);
    w.u64(v.epoch);
    w.opaque(v.treeHash);
    w.opaque(v.confirmedTranscriptHash);
    extensionsCodec.encode(w, v.extensions);
  },
  decode(r) {
    const version = readProtocolVersion(r);
    const cipherSuite = r.u16();
    const groupId = r.opaque();
    const epoch = r.u64();
    const treeHash = r.opaque();
    const confirmedTranscriptHash = r.opaque();
    const extensions = extensionsCodec.decode(r);
    return { version, cipherSuite, groupId, epoch, treeHash, confirmedTranscriptHash, extensions };
  },
};

export { ProtocolVersion };
