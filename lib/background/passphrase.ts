/**
 * The passphrase lock's key stretching: when the passkey has no PRF, a local
 * passphrase protects the data key instead (lock.ts wraps it).
 *
 *   kek = Argon2id(NFKC(passphrase), salt, m = 64 MiB, t = 3, p = 1, 32 bytes)   (RFC 9106)
 *
 * The parameters are RFC 9106 §4's second recommended option (64 MiB, 3
 * passes, one lane); one lane because the worker has one thread. Measured
 * with @noble/hashes 2.4 (pure JS) under Node 22 on the project's 2-core CI
 * box: about 1.0 s per derivation; a browser worker is in the same range.
 * An attacker with a copy of the profile pays the same per guess, and the
 * memory cost keeps GPU guessing expensive. The salt (32 random bytes) and the
 * parameters are stored beside the wrapped key, so they can be raised later
 * without breaking an existing lock.
 *
 * There is no attempt counter: a wrong passphrase changes nothing stored, so
 * it never locks a person out of their data; the cost per guess is the limit.
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { t } from '../platform/i18n.ts';

export interface Argon2Params {
  /** Memory in KiB. */
  m: number;
  /** Passes. */
  t: number;
  /** Lanes. */
  p: number;
}

export const PASSPHRASE_KDF: Argon2Params = { m: 64 * 1024, t: 3, p: 1 };

export const PASSPHRASE_MIN_LENGTH = 8;
export const PASSPHRASE_MAX_LENGTH = 1024;

/** A stored record cannot make the worker allocate or spin without bound (1 GiB, 16 passes at most). */
export function validArgon2Params(v: unknown): v is Argon2Params {
  if (typeof v !== 'object' || v === null) return false;
  const { m, t, p } = v as Record<string, unknown>;
  const int = (x: unknown, min: number, max: number): boolean => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
  return int(p, 1, 4) && int(t, 1, 16) && int(m, 8 * (p as number), 1024 * 1024);
}

/** Why a passphrase cannot be used for a new lock, or null when it can. */
export function passphraseProblem(passphrase: string): string | null {
  const n = [...passphrase.normalize('NFKC')].length;
  if (n < PASSPHRASE_MIN_LENGTH) return t('bg_err_passphrase_short', PASSPHRASE_MIN_LENGTH);
  if (passphrase.length > PASSPHRASE_MAX_LENGTH) return `A passphrase has at most ${PASSPHRASE_MAX_LENGTH} characters.`;
  return null;
}

/**
 * The 32-byte key-encryption key of a passphrase. NFKC first, so the same
 * passphrase typed on another keyboard or input method gives the same key.
 */
export async function passphraseKek(passphrase: string, salt: Uint8Array, params: Argon2Params): Promise<Uint8Array> {
  const pw = new TextEncoder().encode(passphrase.normalize('NFKC'));
  try {
    return await argon2idAsync(pw, salt, { ...params, dkLen: 32, maxmem: 1024 ** 3 + 1024 * 1024 });
  } finally {
    pw.fill(0);
  }
}
