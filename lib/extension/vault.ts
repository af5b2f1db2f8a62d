/**
 * Encryption at rest for everything secret the background stores.
 *
 * Each record is sealed with AES-256-GCM under the device's data key, a
 * WebCrypto key created non-extractable: script can use it but never read it,
 * so a copy of the profile's IndexedDB files alone does not reveal it in
 * usable form to another origin, and no code path can send it anywhere.
 *
 * The additional data binds a record to its store and key, so sealed records
 * cannot be swapped between slots without failing authentication.
 *
 *   record = { v: 1, iv: 12 random bytes, ct: AES-GCM(dataKey, iv, plaintext, aad) }
 *   aad    = "microchat/vault/v1" || 0x00 || store || 0x00 || id
 */

export const VAULT_RECORD_VERSION = 1;
const AAD_PREFIX = 'microchat/vault/v1';

export interface SealedRecord {
  v: typeof VAULT_RECORD_VERSION;
  iv: Uint8Array;
  ct: Uint8Array;
}

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: 'corrupt' | 'unsupported-version' | 'locked',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where the vault keeps its data key (a CryptoKey is structured-cloneable). */
export interface KeySlot {
  load(): Promise<CryptoKey | undefined>;
  store(key: CryptoKey): Promise<void>;
}

const encoder = new TextEncoder();

function aad(store: string, id: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${AAD_PREFIX}\u0000${store}\u0000${id}`) as Uint8Array<ArrayBuffer>;
}

export function isSealedRecord(v: unknown): v is SealedRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return r.iv instanceof Uint8Array && r.ct instanceof Uint8Array && typeof r.v === 'number';
}

export class Vault {
  private constructor(private readonly key: CryptoKey) {}

  /** Load the device's data key, creating a fresh non-extractable one on first use. */
  static async open(slot: KeySlot, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<Vault> {
    let key = await slot.load();
    if (!key) {
      key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      await slot.store(key);
    }
    if (key.extractable) throw new VaultError('corrupt', 'the stored data key is extractable; refusing to use it');
    return new Vault(key);
  }

  /**
   * A vault over a data key given as raw bytes (the passkey lock's unwrapped
   * key, see lock.ts): imported non-extractable, so only this in-memory
   * CryptoKey remains once the caller wipes the bytes.
   */
  static async fromRawKey(raw: Uint8Array, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<Vault> {
    if (raw.length !== 32) throw new VaultError('corrupt', 'a data key is 32 bytes');
    const key = await subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    return new Vault(key);
  }

  async seal(store: string, id: string, plaintext: Uint8Array): Promise<SealedRecord> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ct = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(store, id) },
      this.key,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return { v: VAULT_RECORD_VERSION, iv, ct: new Uint8Array(ct) };
  }

  async open(store: string, id: string, record: unknown): Promise<Uint8Array> {
    if (!isSealedRecord(record)) throw new VaultError('corrupt', `record ${store}/${id} is not a sealed record`);
    if (record.v !== VAULT_RECORD_VERSION) throw new VaultError('unsupported-version', `record ${store}/${id} has version ${record.v}`);
    try {
      const pt = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: record.iv as Uint8Array<ArrayBuffer>, additionalData: aad(store, id) },
        this.key,
        record.ct as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(pt);
    } catch (err) {
      throw new VaultError('corrupt', `record ${store}/${id} failed authentication`, { cause: err });
    }
  }

  async sealJson(store: string, id: string, value: unknown): Promise<SealedRecord> {
    return this.seal(store, id, encoder.encode(JSON.stringify(value)));
  }

  async openJson<T>(store: string, id: string, record: unknown): Promise<T> {
    const bytes = await this.open(store, id, record);
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  }
}
