/**
 * Pre-shared keys (RFC 9420 §8.4): the PreSharedKeyID struct that names a PSK
 * in a PreSharedKey proposal or in GroupSecrets, and the chained derivation of
 * `psk_secret` that the key schedule folds in beside the joiner secret.
 *
 *                  0                               0    = psk_secret_[0]
 *                  |                               |
 *                  v                               v
 *   psk_[0]  -> Extract -> ExpandWithLabel -> Extract = psk_secret_[1]
 *                           ("derived psk",        |
 *                            PSKLabel{id,0,n})     v
 *   psk_[1]  -> Extract -> ExpandWithLabel -> Extract = psk_secret_[2]
 *                                                 ...
 *   psk_[n-1]-> Extract -> ExpandWithLabel -> Extract = psk_secret_[n]
 *
 * Which PSK bytes an id refers to is the application's business (external) or
 * the group history's (resumption); callers resolve ids to bytes first.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { expandWithLabel } from './crypto-ops.ts';
import { encode, type Codec } from '../codec/codec.ts';
import { bytesEqual, bytesToHex } from '../../bytes.ts';
import { DecodeError, ValidationError } from '../errors.ts';

/** §8.4 PSKType. */
export const PskType = {
  external: 1,
  resumption: 2,
} as const;
export type PskType = (typeof PskType)[keyof typeof PskType];
const PSK_TYPES: ReadonlySet<number> = new Set(Object.values(PskType));

/** §8.4 ResumptionPSKUsage. */
export const ResumptionPskUsage = {
  application: 1,
  reinit: 2,
  branch: 3,
} as const;
export type ResumptionPskUsage = (typeof ResumptionPskUsage)[keyof typeof ResumptionPskUsage];
const RESUMPTION_USAGES: ReadonlySet<number> = new Set(Object.values(ResumptionPskUsage));

export interface ExternalPskId {
  readonly psktype: typeof PskType.external;
  readonly pskId: Uint8Array;
  readonly pskNonce: Uint8Array;
}

export interface ResumptionPskId {
  readonly psktype: typeof PskType.resumption;
  readonly usage: ResumptionPskUsage;
  readonly pskGroupId: Uint8Array;
  readonly pskEpoch: bigint;
  readonly pskNonce: Uint8Array;
}

/** §8.4 PreSharedKeyID. */
export type PreSharedKeyId = ExternalPskId | ResumptionPskId;
/** The RFC's spelling, for readers grepping for it. */
export type PreSharedKeyID = PreSharedKeyId;

export const preSharedKeyIdCodec: Codec<PreSharedKeyId> = {
  encode(w, v) {
    w.u8(v.psktype);
    if (v.psktype === PskType.external) {
      w.opaque(v.pskId);
    } else {
      w.u8(v.usage);
      w.opaque(v.pskGroupId);
      w.u64(v.pskEpoch);
    }
    w.opaque(v.pskNonce);
  },
  decode(r) {
    const psktype = r.enumU8<PskType>(PSK_TYPES, 'PSKType');
    if (psktype === PskType.external) {
      const pskId = r.opaque();
      const pskNonce = r.opaque();
      return { psktype, pskId, pskNonce };
    }
    const usage = r.enumU8<ResumptionPskUsage>(RESUMPTION_USAGES, 'ResumptionPSKUsage');
    const pskGroupId = r.opaque();
    const pskEpoch = r.u64();
    const pskNonce = r.opaque();
    return { psktype, usage, pskGroupId, pskEpoch, pskNonce };
  },
};

/** §8.4 PSKLabel: binds each PSK to its id and its place in the list. */
export interface PskLabel {
  readonly id: PreSharedKeyId;
  readonly index: number;
  readonly count: number;
}

export const pskLabelCodec: Codec<PskLabel> = {
  encode(w, v) {
    preSharedKeyIdCodec.encode(w, v.id);
    w.u16(v.index);
    w.u16(v.count);
  },
  decode(r) {
    const id = preSharedKeyIdCodec.decode(r);
    const index = r.u16();
    const count = r.u16();
    if (index >= count) throw new DecodeError('bad-value', `PSKLabel index ${index} >= count ${count}`, r.offset);
    return { id, index, count };
  },
};

declare const pskSecretBrand: unique symbol;
/** The output of §8.4, input to the key schedule's second Extract. */
export type PskSecret = Uint8Array & { readonly [pskSecretBrand]: true };

/** A PSK id resolved to the secret bytes it names. */
export interface ResolvedPsk {
  readonly id: PreSharedKeyId;
  readonly psk: Uint8Array;
}

/** `PSKLabel.count` is a uint16, so a list can hold at most this many PSKs. */
export const MAX_PSKS = 0xffff;

/** psk_secret_[0]: the all-zero vector of length Nh, used when no PSK is injected. */
export function zeroPskSecret(cs: CipherSuite): PskSecret {
  return new Uint8Array(cs.kdf.size) as PskSecret;
}

/**
 * §8.4: chain the PSKs in order into `psk_secret`. With no PSKs the result is
 * the all-zero vector. Intermediate secrets are wiped.
 */
export function computePskSecret(cs: CipherSuite, psks: readonly ResolvedPsk[]): PskSecret {
  const nh = cs.kdf.size;
  // V-PSK-6: PSKLabel.index/count are uint16; a longer list cannot be labelled.
  if (psks.length > MAX_PSKS) {
    throw new ValidationError('V-PSK-6', `too many PSKs: ${psks.length} > ${MAX_PSKS}`);
  }
  const zero = new Uint8Array(nh);
  let secret: Uint8Array = new Uint8Array(nh);
  const count = psks.length;
  for (let index = 0; index < count; index++) {
    const { id, psk } = psks[index]!;
    const extracted = cs.kdf.extract(zero, psk);
    const label = encode(pskLabelCodec, { id, index, count });
    const input = expandWithLabel(cs, extracted, 'derived psk', label, nh);
    const next = cs.kdf.extract(input, secret);
    extracted.fill(0);
    input.fill(0);
    secret.fill(0);
    secret = next;
  }
  return secret as PskSecret;
}

/** Where the PSK ids being checked came from; decides which usages are allowed. */
export type PskContext = 'commit' | 'reinit' | 'branch';

/**
 * §12.1.4: a PreSharedKey proposal's id must be usable in this context and
 * carry a nonce of length KDF.Nh.
 */
export function validatePreSharedKeyId(cs: CipherSuite, id: PreSharedKeyId, context: PskContext = 'commit'): void {
  if (id.psktype === PskType.resumption) {
    // V-PSK-1: resumption/reinit only while reinitializing (§11.2, §12.1.4).
    if (id.usage === ResumptionPskUsage.reinit && context !== 'reinit') {
      throw new ValidationError('V-PSK-1', 'resumption PSK with usage reinit outside a reinitialization');
    }
    // V-PSK-2: resumption/branch only while branching (§11.3, §12.1.4).
    if (id.usage === ResumptionPskUsage.branch && context !== 'branch') {
      throw new ValidationError('V-PSK-2', 'resumption PSK with usage branch outside subgroup branching');
    }
  }
  // V-PSK-3: psk_nonce MUST have length KDF.Nh (§8.4, §12.1.4).
  if (id.pskNonce.length !== cs.kdf.size) {
    throw new ValidationError('V-PSK-3', `psk_nonce has ${id.pskNonce.length} bytes, expected ${cs.kdf.size}`);
  }
}

export function preSharedKeyIdEqual(a: PreSharedKeyId, b: PreSharedKeyId): boolean {
  return bytesEqual(encode(preSharedKeyIdCodec, a), encode(preSharedKeyIdCodec, b));
}

/** §12.2: a Commit MUST NOT carry two PreSharedKey proposals with the same PreSharedKeyID. */
export function validateDistinctPskIds(ids: readonly PreSharedKeyId[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    const key = bytesToHex(encode(preSharedKeyIdCodec, id));
    // V-PSK-4
    if (seen.has(key)) throw new ValidationError('V-PSK-4', 'the same PreSharedKeyID appears twice');
    seen.add(key);
  }
}

/**
 * §12.4.3.1: in a Welcome, a resumption PSK with usage reinit or branch must be
 * the only such PSK. Returns that usage if there is one.
 */
export function validateWelcomePskIds(ids: readonly PreSharedKeyId[]): ResumptionPskUsage | undefined {
  let special: ResumptionPskUsage | undefined;
  for (const id of ids) {
    if (id.psktype !== PskType.resumption || id.usage === ResumptionPskUsage.application) continue;
    // V-PSK-5
    if (special !== undefined) {
      throw new ValidationError('V-PSK-5', 'more than one resumption PSK with usage reinit or branch');
    }
    special = id.usage;
  }
  return special;
}

/** Looks up the bytes of a PSK; returns undefined when we do not hold it. */
export type PskLookup = (id: PreSharedKeyId) => Uint8Array | undefined;

/**
 * Resolve each id to its PSK, in order. §12.4.3.1 / §12.4.2: a client that
 * does not hold a referenced PSK must fail.
 */
export function resolvePsks(ids: readonly PreSharedKeyId[], lookup: PskLookup): ResolvedPsk[] {
  return ids.map((id) => {
    const psk = lookup(id);
    // V-PSK-7
    if (psk === undefined) throw new ValidationError('V-PSK-7', 'a referenced PSK is not available');
    return { id, psk };
  });
}
