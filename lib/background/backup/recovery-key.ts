/**
 * The recovery key (issue #19): 128 random bits the person writes down, and
 * everything the backup needs derived from it on the device.
 *
 * Written form: Crockford base32 (no I, L, O or U, so nothing reads as
 * another symbol), 32 symbols in 8 groups of 4:
 *
 *   bytes   version(1) ‖ secret(16) ‖ check(3)          20 bytes = 160 bits
 *   check   SHA-256("MicroChat recovery key check" ‖ version ‖ secret)[0..3]
 *   text    ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789
 *
 * A typo is caught locally by the 24-bit check (a wrong key that passes it
 * is then refused by the relay as an unknown backup: nothing is created).
 * Reading is lenient where that cannot confuse: any case, I/L read as 1 and
 * O as 0, and any spaces or dashes.
 *
 * Derivation, HKDF-SHA-256 (RFC 5869) with the secret as IKM and a fixed
 * salt, one label per output so no two can be confused (each is its own
 * branded type):
 *
 *   backup key     "backup key"     32 bytes  AES-256-GCM key of every backup item
 *   backup id      "backup id"      16 bytes  the relay's address of the backup
 *   access secret  "access secret"  32 bytes  opens it at the relay (kept there as a hash)
 *   item names     "item" ‖ name    16 bytes  an item's opaque name at the relay
 *
 * The relay sees the id, the secret and item names, none of which lead back
 * to the key or to each other's inputs.
 */

import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, randomBytes, toB64 } from '../../bytes.ts';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** The 16 secret bytes of a recovery key (never leave the device). */
export type RecoverySecret = Brand<Uint8Array, 'RecoverySecret'>;
export type BackupKey = Brand<Uint8Array, 'BackupKey'>;
export type AccessSecret = Brand<Uint8Array, 'AccessSecret'>;
/** The backup's address at the relay: 16 bytes as an unpadded base64url id. */
export type BackupId = Brand<string, 'BackupId'>;
export type ItemName = Brand<string, 'ItemName'>;

export const RECOVERY_KEY_VERSION = 1;
export const RECOVERY_SECRET_BYTES = 16;
const CHECK_BYTES = 3;
const ENCODED_BYTES = 1 + RECOVERY_SECRET_BYTES + CHECK_BYTES;
export const RECOVERY_KEY_SYMBOLS = (ENCODED_BYTES * 8) / 5;
export const RECOVERY_KEY_GROUP = 4;
export const RECOVERY_KEY_GROUPS = RECOVERY_KEY_SYMBOLS / RECOVERY_KEY_GROUP;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const enc = new TextEncoder();
const CHECK_LABEL = enc.encode('MicroChat recovery key check');
const SALT = enc.encode('MicroChat backup v1');

/** Why a typed recovery key was not accepted (the view says which). */
export type RecoveryKeyProblem = 'length' | 'symbol' | 'version' | 'check';

export class RecoveryKeyError extends Error {
  override readonly name = 'RecoveryKeyError';
  constructor(readonly problem: RecoveryKeyProblem) {
    super(`recovery key not accepted: ${problem}`);
  }
}

function check(version: number, secret: Uint8Array): Uint8Array {
  return sha256(concatBytes(CHECK_LABEL, Uint8Array.of(version), secret)).subarray(0, CHECK_BYTES);
}

function toBase32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** Symbol → value, with Crockford's lenient readings (i, l → 1; o → 0). */
function symbolValue(c: string): number {
  const u = c.toUpperCase();
  const v = ALPHABET.indexOf(u === 'I' || u === 'L' ? '1' : u === 'O' ? '0' : u);
  if (v < 0) throw new RecoveryKeyError('symbol');
  return v;
}

/** The written form of a recovery secret: 8 groups of 4 symbols joined by dashes. */
export function formatRecoveryKey(secret: RecoverySecret): string {
  if (secret.length !== RECOVERY_SECRET_BYTES) throw new RangeError('a recovery secret is 16 bytes');
  const text = toBase32(concatBytes(Uint8Array.of(RECOVERY_KEY_VERSION), secret, check(RECOVERY_KEY_VERSION, secret)));
  return recoveryKeyGroups(text).join('-');
}

function recoveryKeyGroups(text: string): string[] {
  return Array.from({ length: text.length / RECOVERY_KEY_GROUP }, (_, i) => text.slice(i * RECOVERY_KEY_GROUP, (i + 1) * RECOVERY_KEY_GROUP));
}

/** The symbols of a typed key, normalised (spaces and dashes dropped, lenient readings applied). */
function normalise(typed: string): string {
  const symbols = typed.replace(/[\s-]+/g, '');
  return Array.from(symbols, (c) => ALPHABET[symbolValue(c)]).join('');
}

/** Reads a typed recovery key; throws RecoveryKeyError saying what is wrong with it. */
export function parseRecoveryKey(typed: string): RecoverySecret {
  if (typed.length > 200) throw new RecoveryKeyError('length');
  const symbols = normalise(typed);
  if (symbols.length !== RECOVERY_KEY_SYMBOLS) throw new RecoveryKeyError('length');
  const bytes = new Uint8Array(ENCODED_BYTES);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const c of symbols) {
    acc = (acc << 5) | ALPHABET.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (bytes[0] !== RECOVERY_KEY_VERSION) throw new RecoveryKeyError('version');
  const secret = bytes.slice(1, 1 + RECOVERY_SECRET_BYTES);
  if (!bytesEqual(bytes.subarray(1 + RECOVERY_SECRET_BYTES), check(RECOVERY_KEY_VERSION, secret))) throw new RecoveryKeyError('check');
  return secret as RecoverySecret;
}

export function generateRecoverySecret(): RecoverySecret {
  return randomBytes(RECOVERY_SECRET_BYTES) as RecoverySecret;
}

/** Everything the backup derives from one recovery key. */
export interface BackupKeys {
  key: BackupKey;
  backupId: BackupId;
  accessSecret: AccessSecret;
  /** The opaque relay name of a named item ("manifest", "segment:<conversation>", ...). */
  itemName(name: string): ItemName;
}

function derive(secret: RecoverySecret, label: string, length: number): Uint8Array {
  return hkdf(sha256, secret, SALT, enc.encode(label), length);
}

export function deriveBackupKeys(secret: RecoverySecret): BackupKeys {
  if (secret.length !== RECOVERY_SECRET_BYTES) throw new RangeError('a recovery secret is 16 bytes');
  const itemKey = derive(secret, 'item names', 32);
  return {
    key: derive(secret, 'backup key', 32) as BackupKey,
    backupId: toB64(derive(secret, 'backup id', 16)) as BackupId,
    accessSecret: derive(secret, 'access secret', 32) as AccessSecret,
    itemName: (name) => toB64(hkdf(sha256, itemKey, undefined, enc.encode(name), 16)) as ItemName,
  };
}

/**
 * Which groups the person types back before continuing (two distinct ones,
 * 0-based, ascending), so a key that was not written down is noticed now.
 */
export function confirmationGroups(pick: (n: number) => number = (n) => randomBytes(1)[0]! % n): [number, number] {
  const a = pick(RECOVERY_KEY_GROUPS);
  let b = pick(RECOVERY_KEY_GROUPS - 1);
  if (b >= a) b += 1;
  return a < b ? [a, b] : [b, a];
}

/** Whether `typed` holds exactly the groups asked for (lenient readings as for the whole key). */
export function confirmsGroups(formatted: string, groups: readonly number[], typed: readonly string[]): boolean {
  if (typed.length !== groups.length) return false;
  const all = recoveryKeyGroups(normalise(formatted));
  return groups.every((g, i) => {
    try {
      return all[g] !== undefined && normalise(typed[i] ?? '') === all[g];
    } catch {
      return false;
    }
  });
}
