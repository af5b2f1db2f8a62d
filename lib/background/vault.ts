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
 *   record = { v: 1, iv: 12 random bytes, ct: AES-GCM(dataKey, iv, plaintext, aad), g?: generation }
 *   aad    = "microchat/vault/v1" || 0x00 || store || 0x00 || id
 *
 * `g` names the data key that sealed the record (a random number per key,
 * see key-rotation.ts). It is only a hint for a rotation in progress, which
 * holds two keys: a record whose tag is wrong still opens with the other key.
 *
 * The data key can change under a live vault (turning the lock on or off).
 * Writers seal and write inside `writing()`; a rotation runs inside
 * `exclusive()`, which waits for the writers in flight and holds back new
 * ones, so no record sealed under the old key lands after the rotation read
 * its store.
 */

export const VAULT_RECORD_VERSION = 1;
const AAD_PREFIX = 'microchat/vault/v1';

export interface SealedRecord {
  v: typeof VAULT_RECORD_VERSION;
  iv: Uint8Array;
  ct: Uint8Array;
  /** The generation of the data key that sealed it (absent on records sealed before rotations existed). */
  g?: number;
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

/** Many writers, or one rotation: the rotation waits for the writers in flight and holds back new ones. */
class WriteGate {
  private writers = 0;
  private idle: (() => void)[] = [];
  private closed: Promise<void> | undefined;

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed !== undefined) await this.closed;
    this.writers++;
    try {
      return await fn();
    } finally {
      this.writers--;
      if (this.writers === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed !== undefined) await this.closed;
    let open!: () => void;
    this.closed = new Promise<void>((r) => (open = r));
    try {
      while (this.writers > 0) await new Promise<void>((r) => this.idle.push(r));
      return await fn();
    } finally {
      this.closed = undefined;
      open();
    }
  }
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
  private readonly gate = new WriteGate();

  private constructor(
    private key: CryptoKey,
    private gen: number | undefined,
  ) {}

  /** The generation tag this vault puts on what it seals (undefined: none). */
  get generation(): number | undefined {
    return this.gen;
  }

  /** Load the device's data key, creating a fresh non-extractable one on first use. */
  static async open(slot: KeySlot, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<Vault> {
    let key = await slot.load();
    if (!key) {
      key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      await slot.store(key);
    }
    return Vault.fromKey(key);
  }

  /** A vault over a stored device key (never creates one); `gen` tags what it seals. */
  static fromKey(key: CryptoKey, gen?: number): Vault {
    if (key.extractable) throw new VaultError('corrupt', 'the stored data key is extractable; refusing to use it');
    return new Vault(key, gen);
  }

  /**
   * A vault over a data key given as raw bytes (the passkey lock's unwrapped
   * key, see lock.ts): imported non-extractable, so only this in-memory
   * CryptoKey remains once the caller wipes the bytes.
   */
  static async fromRawKey(raw: Uint8Array, gen?: number, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<Vault> {
    if (raw.length !== 32) throw new VaultError('corrupt', 'a data key is 32 bytes');
    const key = await subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    return new Vault(key, gen);
  }

  /** Seal and write under this (a record sealed here must reach IndexedDB before a rotation may start). */
  writing<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.shared(fn);
  }

  /** Run a rotation: no writer is between sealing and writing while `fn` runs. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.exclusive(fn);
  }

  /** Take over another vault's key (the end of a rotation); the object everyone holds stays the same. */
  adopt(next: Vault): void {
    this.key = next.key;
    this.gen = next.gen;
  }

  async seal(store: string, id: string, plaintext: Uint8Array): Promise<SealedRecord> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ct = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(store, id) },
      this.key,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return { v: VAULT_RECORD_VERSION, iv, ct: new Uint8Array(ct), ...(this.gen === undefined ? {} : { g: this.gen }) };
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
