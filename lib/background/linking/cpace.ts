/**
 * CPace (draft-irtf-cfrg-cpace), suite CPACE-RISTR255-SHA512, initiator-
 * responder, with the explicit key confirmation of §"Key confirmation". Our
 * own code over @noble/curves' ristretto255; pinned to the draft's test
 * vectors in tests/background/linking/cpace.test.ts.
 *
 *   A (initiator): PRS, CI, sid, ADa          B (responder): PRS, CI, sid, ADb
 *     g  = calculate_generator(PRS, CI, sid)    g  = calculate_generator(PRS, CI, sid)
 *     Ya = ya·g            ── Ya, ADa ──▶       Yb = yb·g
 *                          ◀── Yb, ADb ──
 *     K  = ya·Yb (abort on I)                   K  = yb·Ya (abort on I)
 *     ISK = SHA-512(lv_cat(DSI‖"_ISK", sid, K) ‖ lv_cat(Ya, ADa) ‖ lv_cat(Yb, ADb))
 *     mac_key = SHA-512("CPaceMac" ‖ sid ‖ ISK);  Tx = HMAC(mac_key, lv_cat(Yx, ADx))
 *
 * Why CPace: the code's secret is only 40 bits. Ya and Yb are uniformly
 * random group elements whatever the password, so someone who sees (or is)
 * the relay learns nothing to test guesses against offline; the only attack
 * is to take part with a guessed password, which the confirmation tag
 * exposes at once, and the relay's slot admits one second party.
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes } from '../../bytes.ts';

const enc = new TextEncoder();
const DSI = enc.encode('CPaceRistretto255');
const DSI_ISK = enc.encode('CPaceRistretto255_ISK');
const MAC_LABEL = enc.encode('CPaceMac');
/** SHA-512's input block size (H.s_in_bytes). */
const S_IN_BYTES = 128;
const Point = ristretto255.Point;

/** prepend_len: the LEB128 length, then the bytes. */
export function prependLen(b: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = b.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  return concatBytes(Uint8Array.from(len), b);
}

export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

/** The password-dependent generator: element_derivation (RFC 9496) of the hashed generator string. */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): InstanceType<typeof Point> {
  return ristretto255_hasher.deriveToCurve!(sha512(generatorString(prs, ci, sid)));
}

/** sample_scalar: 32 random bytes, bits above the group size cleared, read little-endian. */
function scalarFrom(bytes: Uint8Array): bigint {
  const b = Uint8Array.from(bytes);
  b[31]! &= 0x0f;
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  b.fill(0);
  return n;
}

/** The inputs both parties must agree on; `ad` is this party's own associated data. */
export interface CpaceInput {
  prs: Uint8Array;
  ci: Uint8Array;
  sid: Uint8Array;
  ad: Uint8Array;
}

/** One party's run: its public share, and the scalar kept until the ISK is derived. */
export class CpaceParty {
  readonly share: Uint8Array;
  private scalar: bigint;

  /** `scalarBytes`: 32 bytes of randomness (tests pass the draft's vectors). */
  constructor(
    private readonly input: CpaceInput,
    scalarBytes: Uint8Array = crypto.getRandomValues(new Uint8Array(32)),
  ) {
    let y = scalarFrom(scalarBytes);
    // Zero has probability 2^-252; draw again rather than fail.
    while (y === 0n) y = scalarFrom(crypto.getRandomValues(new Uint8Array(32)));
    this.scalar = y;
    this.share = calculateGenerator(input.prs, input.ci, input.sid).multiply(y).toBytes();
  }

  /**
   * The ISK from the peer's share, or null when the share does not decode or
   * K is the identity (scalar_mult_vfy). Single use: the scalar is dropped.
   */
  finish(role: 'initiator' | 'responder', peerShare: Uint8Array, peerAd: Uint8Array): Uint8Array | null {
    const y = this.scalar;
    if (y === 0n) throw new Error('CPace party already finished');
    this.scalar = 0n;
    let k: Uint8Array;
    try {
      const peer = Point.fromBytes(peerShare);
      const kp = peer.multiply(y);
      if (kp.is0()) return null;
      k = kp.toBytes();
    } catch {
      return null;
    }
    const own = lvCat(this.share, this.input.ad);
    const theirs = lvCat(peerShare, peerAd);
    const transcript = role === 'initiator' ? concatBytes(own, theirs) : concatBytes(theirs, own);
    const isk = sha512(concatBytes(lvCat(DSI_ISK, this.input.sid, k), transcript));
    k.fill(0);
    return isk;
  }
}

export function macKey(sid: Uint8Array, isk: Uint8Array): Uint8Array {
  return sha512(concatBytes(MAC_LABEL, sid, isk));
}

/** The confirmation tag a party sends over the message it sent (its share and AD). */
export function confirmationTag(key: Uint8Array, share: Uint8Array, ad: Uint8Array): Uint8Array {
  return hmac(sha512, key, lvCat(share, ad));
}

export function tagMatches(key: Uint8Array, share: Uint8Array, ad: Uint8Array, tag: Uint8Array): boolean {
  return bytesEqual(confirmationTag(key, share, ad), tag);
}
