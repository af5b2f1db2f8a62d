/**
 * ProtocolVersion (RFC 9420 §6). Only mls10 exists. Where the version says how
 * the rest of the bytes are laid out (MLSMessage, KeyPackage, GroupContext,
 * FramedContentTBS) an unknown value cannot be processed and is a decode error
 * (V-VERSION-1); in lists of supported versions (Capabilities) and in ReInit,
 * which may name a future version, it stays a plain number.
 */
import type { Reader } from '../codec/codec.ts';

export const ProtocolVersion = {
  mls10: 1,
} as const;
export type ProtocolVersion = (typeof ProtocolVersion)[keyof typeof ProtocolVersion];
const PROTOCOL_VERSIONS: ReadonlySet<number> = new Set(Object.values(ProtocolVersion));

/** Read a version that must be one we implement (V-VERSION-1). */
export function readProtocolVersion(r: Reader): ProtocolVersion {
  return r.enumU16<ProtocolVersion>(PROTOCOL_VERSIONS, '[V-VERSION-1] ProtocolVersion');
}
