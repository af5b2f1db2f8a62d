/**
 * Encryption of one backup item on the device (issue #19): AES-256-GCM
 * (RFC 5116 AEAD_AES_256_GCM) under the backup key derived from the recovery
 * key, a fresh random 96-bit nonce per item, and the plaintext padded so the
 * relay learns sizes only coarsely.
 *
 *   sealed  = version(1) ‖ nonce(12) ‖ AES-GCM(key, nonce, padded, aad)
 *   padded  = uint32(length) ‖ plaintext ‖ zeros   to the next size step
 *   aad     = "MicroChat backup item v1" ‖ backupId ‖ item name
 *
 * The associated data binds an item to its backup and name, so the relay
 * cannot hand one item back as another (BACKUP-AEAD-1). Size steps: at
 * least 1 KiB, then four per power of two (at most a quarter more).
 */

import { concatBytes, randomBytes } from '../../bytes.ts';
import { CryptoError } from '../../crypto/errors.ts';
import type { BackupId, BackupKey, ItemName } from './recovery-key.ts';

const SEAL_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MIN_PADDED = 1024;
const AAD_LABEL = new TextEncoder().encode('MicroChat backup item v1');

/** Bytes `plaintextLength` occupies once padded (length prefix included). */
export function paddedLength(plaintextLength: number): number {
  const n = plaintextLength + 4;
  if (n <= MIN_PADDED) return MIN_PADDED;
  const step = 2 ** Math.floor(Math.log2(n - 1)) / 4;
  return Math.ceil(n / step) * step;
}

/** Ciphertext bytes of an item whose plaintext is `plaintextLength` long. */
export function sealedLength(plaintextLength: number): number {
  return 1 + NONCE_BYTES + paddedLength(plaintextLength) + TAG_BYTES;
}

function aad(backupId: BackupId, item: ItemName): Uint8Array {
  const enc = new TextEncoder();
  return concatBytes(AAD_LABEL, enc.encode(backupId), enc.encode(item));
}

async function importKey(key: BackupKey, usage: KeyUsage): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', key.slice(), { name: 'AES-GCM' }, false, [usage]);
}

export async function sealItem(key: BackupKey, backupId: BackupId, item: ItemName, plaintext: Uint8Array): Promise<Uint8Array> {
  const padded = new Uint8Array(paddedLength(plaintext.length));
  new DataView(padded.buffer).setUint32(0, plaintext.length);
  padded.set(plaintext, 4);
  const nonce = randomBytes(NONCE_BYTES);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce.slice(), additionalData: aad(backupId, item).slice() }, await importKey(key, 'encrypt'), padded);
  return concatBytes(Uint8Array.of(SEAL_VERSION), nonce, new Uint8Array(ct));
}

/** Opens an item; a wrong key, another item's ciphertext or a changed byte is a CryptoError (BACKUP-AEAD-1). */
export async function openItem(key: BackupKey, backupId: BackupId, item: ItemName, sealed: Uint8Array): Promise<Uint8Array> {
  if (sealed.length < 1 + NONCE_BYTES + MIN_PADDED + TAG_BYTES || sealed[0] !== SEAL_VERSION) throw new CryptoError('BACKUP-AEAD-1', 'not a sealed backup item');
  let padded: Uint8Array;
  try {
    const nonce = sealed.slice(1, 1 + NONCE_BYTES);
    const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad(backupId, item).slice() }, await importKey(key, 'decrypt'), sealed.slice(1 + NONCE_BYTES));
    padded = new Uint8Array(pt);
  } catch (err) {
    throw new CryptoError('BACKUP-AEAD-1', 'the backup item fails authentication', { cause: err });
  }
  const length = new DataView(padded.buffer).getUint32(0);
  if (length > padded.length - 4 || padded.subarray(4 + length).some((b) => b !== 0)) throw new CryptoError('BACKUP-AEAD-1', 'bad padding');
  return padded.slice(4, 4 + length);
}
