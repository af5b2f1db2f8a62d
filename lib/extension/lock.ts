/**
 * The optional passkey lock (WebAuthn PRF).
 *
 * Without the lock, the vault's data key is a non-extractable CryptoKey kept
 * in IndexedDB ('keys'/'device'): usable by the extension, unreadable by
 * script. With the lock, the data key exists on disk only WRAPPED:
 *
 *   prf     = PRF(passkey, salt)                    (from the authenticator, per ceremony)
 *   kek     = HKDF-SHA256(ikm = prf, salt = salt, info = "microchat/vault-kek/v1", 32)
 *   stored  = { salt, iv, AES-256-GCM(kek, iv, dataKey, aad = "microchat/vault-wrap/v1"), credentialId, displayName }
 *
 * and after unlocking it lives only in memory, imported as a non-extractable
 * CryptoKey; the raw bytes are wiped at once. A copy of the profile then
 * reveals nothing without the passkey.
 *
 * Enabling the lock ROTATES the data key: a fresh one is generated, every
 * sealed record is opened under the old key and sealed again under the new
 * one, and the records, the wrapped key and the removal of the old device
 * key are written in one transaction, so no record stays readable under a
 * key that is kept on disk. The display name and the credential id stay in
 * the clear next to the wrapped key: the lock screen needs them before unlock.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromB64, randomBytes, toB64 } from './b64.ts';
import type { Database } from './db.ts';
import { isSealedRecord, Vault, VaultError, type SealedRecord } from './vault.ts';

export interface WrappedKey {
  v: 1;
  salt: Uint8Array;
  iv: Uint8Array;
  ct: Uint8Array;
  credentialId: string;
  displayName: string;
}

const WRAPPED = 'wrapped';
const DEVICE = 'device';
const KEK_INFO = new TextEncoder().encode('microchat/vault-kek/v1');
const WRAP_AAD = new TextEncoder().encode('microchat/vault-wrap/v1');

export function deriveKek(prf: Uint8Array, salt: Uint8Array): Uint8Array {
  return hkdf(sha256, prf, salt, KEK_INFO, 32);
}

export async function loadWrappedKey(db: Database): Promise<WrappedKey | undefined> {
  const v = (await db.get('settings', WRAPPED)) as WrappedKey | undefined;
  return v !== undefined && v.v === 1 && v.salt instanceof Uint8Array ? v : undefined;
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

/** Unwrap the data key with a PRF output; a wrong passkey fails authentication. */
export async function unlockVault(wrapped: WrappedKey, prf: Uint8Array): Promise<Vault> {
  const kek = deriveKek(prf, wrapped.salt);
  let raw: Uint8Array;
  try {
    raw = gcm(kek, wrapped.iv, WRAP_AAD).decrypt(wrapped.ct);
  } catch (cause) {
    throw new VaultError('locked', 'this passkey does not unlock MicroChat', { cause });
  } finally {
    kek.fill(0);
  }
  try {
    return await Vault.fromRawKey(raw);
  } finally {
    raw.fill(0);
  }
}

const SEALED_STORES = ['secrets', 'tokens', 'conversations', 'groups', 'messages', 'outbox'] as const;

/** The vault slot id of a row: its key, except rows that carry their sealed part in `.sealed`. */
function slotOf(store: (typeof SEALED_STORES)[number], key: unknown, value: unknown): string {
  if (store === 'messages') {
    const v = value as { conversationId: string; seq: number };
    return `${v.conversationId}/${v.seq}`;
  }
  return String(key);
}

/**
 * Turn the lock on: rotate every sealed record to a fresh data key, store
 * that key wrapped under the PRF-derived key, and drop the device key, all in
 * one transaction. Returns the new (in-memory) vault.
 */
export async function enableLock(
  db: Database,
  current: Vault,
  prf: Uint8Array,
  salt: Uint8Array,
  who: { credentialId: string; displayName: string },
): Promise<Vault> {
  const raw = randomBytes(32);
  const next = await Vault.fromRawKey(raw);
  const kek = deriveKek(prf, salt);
  const iv = randomBytes(12);
  const wrapped: WrappedKey = { v: 1, salt, iv, ct: gcm(kek, iv, WRAP_AAD).encrypt(raw), ...who };
  raw.fill(0);
  kek.fill(0);

  // Re-seal everything before the transaction (WebCrypto awaits would end it).
  const rewrites: { store: (typeof SEALED_STORES)[number]; key: IDBValidKey; value: unknown; inline: boolean }[] = [];
  for (const store of SEALED_STORES) {
    const tx = db.transaction(store);
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const value = values[i] as unknown;
      const slot = slotOf(store, key, value);
      const inline = !isSealedRecord(value);
      const sealed = inline ? (value as { sealed: SealedRecord }).sealed : (value as SealedRecord);
      const plain = await current.open(store, slot, sealed);
      const resealed = await next.seal(store, slot, plain);
      plain.fill(0);
      // Keep any clear fields beside the sealed part (e.g. a pending commit's hash).
      const updated = inline ? { ...(value as object), sealed: resealed } : { ...(value as object), ...resealed };
      rewrites.push({ store, key, value: updated, inline });
    }
  }
  const tx = db.transaction([...SEALED_STORES, 'keys', 'settings'], 'readwrite');
  const ops: Promise<unknown>[] = [];
  for (const r of rewrites) {
    const os = tx.objectStore(r.store) as unknown as { put(v: unknown, k?: IDBValidKey): Promise<unknown> };
    ops.push(r.inline ? os.put(r.value) : os.put(r.value, r.key));
  }
  ops.push(tx.objectStore('settings').put(wrapped, WRAPPED));
  ops.push(tx.objectStore('keys').delete(DEVICE));
  await Promise.all([...ops, tx.done]);
  return next;
}
