/**
 * The optional lock: the data key is kept on disk only WRAPPED, under a
 * key-encryption key (KEK) that only the person can produce, either from
 * their passkey (WebAuthn PRF) or, when the passkey has no PRF, from a
 * passphrase (passphrase.ts):
 *
 *   passkey:    prf = PRF(passkey, salt)            (from the authenticator, per ceremony)
 *               kek = HKDF-SHA256(ikm = prf, salt = salt, info = "microchat/vault-kek/v1", 32)
 *   passphrase: kek = Argon2id(passphrase, salt, m = 64 MiB, t = 3, p = 1)
 *   stored      = { kind, salt, iv, AES-256-GCM(kek, iv, dataKey, aad = "microchat/vault-wrap/v1"),
 *                   kdf (passphrase), gen, credentialId, displayName }
 *
 * Without the lock, the data key is a non-extractable CryptoKey kept in
 * IndexedDB ('keys'/'device'): usable by the extension, unreadable by script,
 * but stored beside the data, so a copy of the profile decrypts everything.
 * With the lock, after unlocking the key lives only in memory, imported as a
 * non-extractable CryptoKey; the raw bytes are wiped at once. A copy of the
 * profile then reveals nothing without the passkey or the passphrase.
 *
 * Turning the lock on or off rotates the data key (key-rotation.ts). The
 * display name and the credential id stay in the clear next to the wrapped
 * key: the lock screen needs them before unlock.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromB64, randomBytes, toB64 } from '../bytes.ts';
import { aesGcm } from '../crypto/noble-aes.ts';
import type { Database } from './db.ts';
import { passphraseKek, validArgon2Params, type Argon2Params } from './passphrase.ts';
import { Vault, VaultError } from './vault.ts';

export type LockKind = 'prf' | 'passphrase';

export interface WrappedKey {
  v: 1;
  /** Absent in records from before the passphrase existed: 'prf'. */
  kind?: LockKind;
  salt: Uint8Array;
  iv: Uint8Array;
  ct: Uint8Array;
  /** The passphrase's Argon2id parameters. */
  kdf?: Argon2Params;
  /** The wrapped data key's generation (the tag on the records it sealed). */
  gen?: number;
  /** The passkey asked for at unlock ('' for a passphrase). */
  credentialId: string;
  displayName: string;
}

/** Where the current wrapped key lives, and where the next one waits during a rotation to the lock. */
export const WRAPPED = 'wrapped';
export const WRAPPED_NEXT = 'wrapped-next';
const KEK_INFO = new TextEncoder().encode('microchat/vault-kek/v1');
const WRAP_AAD = new TextEncoder().encode('microchat/vault-wrap/v1');

export function deriveKek(prf: Uint8Array, salt: Uint8Array): Uint8Array {
  return hkdf(sha256, prf, salt, KEK_INFO, 32);
}

export function lockKind(w: WrappedKey): LockKind {
  return w.kind ?? 'prf';
}

export async function loadWrappedKey(db: Database, slot: typeof WRAPPED | typeof WRAPPED_NEXT = WRAPPED): Promise<WrappedKey | undefined> {
  const v = (await db.get('settings', slot)) as WrappedKey | undefined;
  if (v === undefined || v.v !== 1 || !(v.salt instanceof Uint8Array)) return undefined;
  if (v.kind === 'passphrase' && !validArgon2Params(v.kdf)) return undefined;
  return v;
}

/** Wrap a fresh data key under a KEK (the caller wipes both). */
export async function wrapDataKey(
  raw: Uint8Array,
  kek: Uint8Array,
  how: { kind: LockKind; salt: Uint8Array; kdf?: Argon2Params; gen: number; credentialId: string; displayName: string },
): Promise<WrappedKey> {
  const iv = randomBytes(12);
  return { v: 1, ...how, iv, ct: (await aesGcm())(kek, iv, WRAP_AAD).encrypt(raw) };
}

/** The PRF result (`clientExtensionResults.prf.results.first`, base64url) of a WebAuthn response, if any. */
export function prfResult(response: unknown): Uint8Array | undefined {
  const r = response as { clientExtensionResults?: { prf?: { results?: { first?: unknown } } } } | null;
  const first = r?.clientExtensionResults?.prf?.results?.first;
  if (typeof first !== 'string') return undefined;
  const bytes = fromB64(first);
  return bytes !== null && bytes.length >= 32 && bytes.length <= 64 ? bytes : undefined;
}

/** Add the PRF extension (salt as base64url, as the view expects) to WebAuthn options. */
export function withPrf(options: Record<string, unknown>, salt: Uint8Array, credentialId?: string): Record<string, unknown> {
  const extensions = typeof options.extensions === 'object' && options.extensions !== null ? options.extensions : {};
  return {
    ...options,
    ...(credentialId === undefined ? {} : { allowCredentials: [{ id: credentialId, type: 'public-key' }] }),
    extensions: { ...extensions, prf: { eval: { first: toB64(salt) } } },
  };
}

/** Sees the raw data key before it is wiped (to keep a copy in session storage, unlocked-key.ts); it must copy what it keeps. */
export type KeepRaw = (raw: Uint8Array) => void;

/** Unwrap the data key with a KEK; a wrong one fails authentication and changes nothing. */
export async function unwrapDataKey(wrapped: WrappedKey, kek: Uint8Array, keep?: KeepRaw): Promise<Vault> {
  const gcm = await aesGcm();
  let raw: Uint8Array;
  try {
    raw = gcm(kek, wrapped.iv, WRAP_AAD).decrypt(wrapped.ct);
  } catch (cause) {
    throw new VaultError('locked', 'this key does not unlock MicroChat', { cause });
  }
  try {
    const vault = await Vault.fromRawKey(raw, wrapped.gen);
    keep?.(raw);
    return vault;
  } finally {
    raw.fill(0);
  }
}

/** Unwrap the data key with a PRF output; a wrong passkey fails authentication. */
export async function unlockVault(wrapped: WrappedKey, prf: Uint8Array, keep?: KeepRaw): Promise<Vault> {
  const kek = deriveKek(prf, wrapped.salt);
  try {
    return await unwrapDataKey(wrapped, kek, keep);
  } finally {
    kek.fill(0);
  }
}

/** Unwrap the data key with a passphrase (Argon2id with the stored salt and parameters). */
export async function unlockWithPassphrase(wrapped: WrappedKey, passphrase: string, keep?: KeepRaw): Promise<Vault> {
  if (lockKind(wrapped) !== 'passphrase' || wrapped.kdf === undefined) throw new VaultError('locked', 'this lock is not a passphrase');
  const kek = await passphraseKek(passphrase, wrapped.salt, wrapped.kdf);
  try {
    return await unwrapDataKey(wrapped, kek, keep);
  } finally {
    kek.fill(0);
  }
}
