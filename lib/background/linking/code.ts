/**
 * The link code the new device shows (as text and as a QR code) and the
 * person types on a device already linked:
 *
 *   slot (20 bits) | secret (40 bits) | check (5 bits)  →  13 Crockford base32 symbols
 *   shown as  ABCD-EFGH-JKMNP
 *
 * `slot` is the relay's rendezvous slot (relay/links.ts); `secret` is the
 * CPace password and never leaves the two devices; `check` catches a typo
 * before the code touches the relay (a mistyped slot would otherwise spend
 * someone else's one-time slot). Crockford's alphabet has no I, L, O or U;
 * reading accepts lower case, I/L as 1, O as 0, and any spaces or dashes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { LinkError } from './errors.ts';

export const CODE_SLOT_BITS = 20;
export const CODE_SECRET_BITS = 40;
const CHECK_BITS = 5;
const SYMBOLS = (CODE_SLOT_BITS + CODE_SECRET_BITS + CHECK_BITS) / 5;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CHECK_LABEL = new TextEncoder().encode('microchat link code check v1');

export interface LinkCode {
  slot: number;
  /** The CPace password: 5 bytes. */
  secret: Uint8Array;
}

function check(slot: number, secret: Uint8Array): number {
  const buf = new Uint8Array(CHECK_LABEL.length + 3 + secret.length);
  buf.set(CHECK_LABEL);
  buf.set([slot >>> 16, (slot >>> 8) & 0xff, slot & 0xff], CHECK_LABEL.length);
  buf.set(secret, CHECK_LABEL.length + 3);
  return sha256(buf)[0]! >>> (8 - CHECK_BITS);
}

/** A fresh secret for `slot`. */
export function newLinkCode(slot: number, random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): LinkCode {
  if (!Number.isInteger(slot) || slot < 0 || slot >= 2 ** CODE_SLOT_BITS) throw new RangeError('slot out of range');
  return { slot, secret: random(CODE_SECRET_BITS / 8) };
}

/** The code as the person sees it: `ABCD-EFGH-JKMNP`. */
export function formatLinkCode(code: LinkCode): string {
  let bits = BigInt(code.slot);
  for (const b of code.secret) bits = (bits << 8n) | BigInt(b);
  bits = (bits << BigInt(CHECK_BITS)) | BigInt(check(code.slot, code.secret));
  let out = '';
  for (let i = SYMBOLS - 1; i >= 0; i--) out += ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)]!;
  return `${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8)}`;
}

/** Reads what the person typed (or the QR code carried); a `bad-code` LinkError when it is not a code. */
export function parseLinkCode(typed: string): LinkCode {
  const clean = typed.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (clean.length !== SYMBOLS) throw new LinkError('bad-code', `a link code has ${SYMBOLS} characters`);
  let bits = 0n;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new LinkError('bad-code', 'a link code uses only digits and letters other than I, L, O and U');
    bits = (bits << 5n) | BigInt(v);
  }
  const checkValue = Number(bits & BigInt(2 ** CHECK_BITS - 1));
  bits >>= BigInt(CHECK_BITS);
  const secret = new Uint8Array(CODE_SECRET_BITS / 8);
  for (let i = secret.length - 1; i >= 0; i--) {
    secret[i] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  const slot = Number(bits);
  if (check(slot, secret) !== checkValue) throw new LinkError('bad-code', 'this code has a typo');
  return { slot, secret };
}
