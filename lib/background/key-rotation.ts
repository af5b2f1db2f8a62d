/**
 * Rotating the data key: turning the lock on (device key → a fresh key kept
 * only wrapped) or off (wrapped key → a fresh non-extractable device key).
 * Every sealed record is opened under the old key and sealed again under the
 * new one; then the old key is deleted.
 *
 * A worker can die at any moment, so the rotation is a resumable procedure
 * whose every step is one IndexedDB transaction:
 *
 *   1. begin   one tx: the new key in its "next" slot + the marker { gen, to }
 *              ('keys'/'next', or 'settings'/'wrapped-next')
 *   2. rewrite per batch of records: read (readonly tx), re-seal under the
 *              new key tagged g = gen, write back (readwrite tx) only if the
 *              record is still the one that was read (its iv), so a record
 *              deleted meanwhile is not brought back
 *   3. finish  one tx: the next key becomes the current one, the old key
 *              and the marker are deleted
 *
 * Killed between any two steps, the profile holds both keys and the marker;
 * the next start sees the marker and finishes the rotation (step 2 skips
 * records already tagged with the new generation, and opens any record with
 * either key). One of the two keys is always a wrapped one, so finishing
 * waits for the unlock; until then the data stays as readable as it was.
 *
 * Writers are held back for the whole rotation (Vault.exclusive): the chat
 * service pauses, and nothing sealed under the old key is written after its
 * store was read. The new key's generation is random, so stale tags from an
 * earlier rotation are never mistaken for it.
 */
import { randomBytes } from '../bytes.ts';
import { fileSlot, WAKE_STATE_SLOT, type Database } from './db.ts';
import { WRAPPED, WRAPPED_NEXT, wrapDataKey, type LockKind, type WrappedKey } from './lock.ts';
import type { Argon2Params } from './passphrase.ts';
import { isSealedRecord, Vault, VaultError, type SealedRecord } from './vault.ts';

export interface RotationMarker {
  v: 1;
  /** The new key's generation: records tagged with it are done. */
  gen: number;
  /** Where the new key lives: the device slot (lock off) or wrapped (lock on). */
  to: 'device' | 'wrapped';
}

export const ROTATION = 'rotation';
export const DEVICE_KEY = 'device';
export const NEXT_DEVICE_KEY = 'next';

/** Every store that holds sealed records. A new store must be listed here or in CLEAR_STORES (a test checks). */
export const SEALED_STORES = ['secrets', 'tokens', 'conversations', 'groups', 'messages', 'outbox', 'keyPackages', 'files'] as const;
/** Stores with nothing sealed: settings (incl. wrapped keys), the key slot, hashes of relay payloads. */
export const CLEAR_STORES = ['settings', 'keys', 'seen'] as const;
type SealedStore = (typeof SEALED_STORES)[number];

export type RotationTarget =
  | { to: 'device' }
  | {
      to: 'wrapped';
      /** The key-encryption key (from the PRF or the passphrase); the caller wipes it. */
      kek: Uint8Array;
      how: { kind: LockKind; salt: Uint8Array; kdf?: Argon2Params; credentialId: string; displayName: string };
      /** Sees the new raw data key before it is wiped (to keep it unlocked across worker stops); it must copy it. */
      keep?: (raw: Uint8Array) => void;
    };

/**
 * Test hook, called at every point a worker could die: after step 1, after
 * a batch is read and re-sealed (before its write transaction opens), after
 * each record is written (inside its transaction), after each batch commits,
 * and before step 3. Throwing kills the rotation there.
 */
export type RotationInterrupt = (rewritten: number, phase: 'begun' | 'sealed' | 'write' | 'committed' | 'rewritten') => void;

export interface RotationOptions {
  batch?: number;
  interrupt?: RotationInterrupt;
}

export async function loadRotation(db: Database): Promise<RotationMarker | undefined> {
  const m = (await db.get('settings', ROTATION)) as RotationMarker | undefined;
  if (m === undefined) return undefined;
  if (m.v !== 1 || typeof m.gen !== 'number' || (m.to !== 'device' && m.to !== 'wrapped')) {
    throw new VaultError('corrupt', 'the key rotation marker is unreadable');
  }
  return m;
}

/** A stored device key (never created here): the current one, or the next one during a rotation. */
export async function loadDeviceKey(db: Database, slot: typeof DEVICE_KEY | typeof NEXT_DEVICE_KEY, gen?: number): Promise<Vault | undefined> {
  const key = await db.get('keys', slot);
  return key === undefined ? undefined : Vault.fromKey(key, gen);
}

function newGeneration(): number {
  const b = randomBytes(6);
  return b.reduce((n, x) => n * 256 + x, 0) + 1;
}

/** Step 1: store the new key in its "next" slot and the marker, in one transaction. */
export async function beginRotation(db: Database, target: RotationTarget): Promise<{ marker: RotationMarker; next: Vault }> {
  const gen = newGeneration();
  const marker: RotationMarker = { v: 1, gen, to: target.to };
  let next: Vault;
  let put: (tx: ReturnType<typeof startTx>) => Promise<unknown>;
  if (target.to === 'device') {
    const key = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    next = Vault.fromKey(key, gen);
    put = (tx) => tx.objectStore('keys').put(key, NEXT_DEVICE_KEY);
  } else {
    const raw = randomBytes(32);
    let wrapped: WrappedKey;
    try {
      wrapped = await wrapDataKey(raw, target.kek, { ...target.how, gen });
      next = await Vault.fromRawKey(raw, gen);
      target.keep?.(raw);
    } finally {
      raw.fill(0);
    }
    put = (tx) => tx.objectStore('settings').put(wrapped, WRAPPED_NEXT);
  }
  const tx = startTx(db);
  // The view state kept for a wake is never kept under the lock: it goes with the marker, before any record is
  // re-sealed under the wrapped key.
  const forget = target.to === 'wrapped' ? tx.objectStore('secrets').delete(WAKE_STATE_SLOT) : undefined;
  await Promise.all([put(tx), tx.objectStore('settings').put(marker, ROTATION), forget, tx.done]);
  return { marker, next };
}

/** A rotation's first step: its next key, its marker and (towards the lock) the kept wake state's deletion. */
function startTx(db: Database) {
  return db.transaction(['keys', 'settings', 'secrets'], 'readwrite');
}

function keyTx(db: Database) {
  return db.transaction(['keys', 'settings'], 'readwrite');
}

/** The vault slot id of a row: its key, except messages (conversation/seq) and files (attachment-files.ts). */
function slotOf(store: SealedStore, key: IDBValidKey, value: unknown): string {
  if (store === 'messages') {
    const v = value as { conversationId: string; seq: number };
    return `${v.conversationId}/${v.seq}`;
  }
  if (store === 'files') {
    const v = value as { conversationId: string; fileId: string; index: number };
    return fileSlot(v.conversationId, v.fileId, v.index);
  }
  return String(key);
}

/** The sealed part of a row: the row itself, or its `.sealed` (rows with clear fields for indexes). */
function sealedPart(value: unknown): { sealed: SealedRecord; inline: boolean } | undefined {
  if (isSealedRecord(value)) return { sealed: value, inline: false };
  const inner = (value as { sealed?: unknown } | undefined)?.sealed;
  return isSealedRecord(inner) ? { sealed: inner, inline: true } : undefined;
}

async function openEither(from: Vault, to: Vault, gen: number, store: string, slot: string, sealed: SealedRecord): Promise<Uint8Array | undefined> {
  const [first, second] = sealed.g === gen ? [to, from] : [from, to];
  try {
    return await first.open(store, slot, sealed);
  } catch {
    // Not under the key it names the generation of: a record written while the rotation was cut short.
    try {
      return await second.open(store, slot, sealed);
    } catch {
      // Under neither key: it was unreadable before, and is left as it is (see rewriteRecords).
      return undefined;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Step 2: re-seal every record not yet under the new key. Records that open
 * under neither key were unreadable before and are left as they are.
 * Returns how many records were rewritten.
 */
export async function rewriteRecords(db: Database, from: Vault, to: Vault, marker: RotationMarker, options: RotationOptions = {}): Promise<number> {
  const batch = options.batch ?? 200;
  let rewritten = 0;
  for (const store of SEALED_STORES) {
    const keys = await db.getAllKeys(store);
    for (let i = 0; i < keys.length; i += batch) {
      const chunk = keys.slice(i, i + batch);
      const rtx = db.transaction(store);
      const values = await Promise.all(chunk.map((k) => rtx.store.get(k as never)));
      await rtx.done;
      const rewrites: { key: IDBValidKey; iv: Uint8Array; value: unknown }[] = [];
      for (let j = 0; j < chunk.length; j++) {
        const key = chunk[j]!;
        const value = values[j] as unknown;
        const part = sealedPart(value);
        if (part === undefined || part.sealed.g === marker.gen) continue;
        const slot = slotOf(store, key, value);
        const plain = await openEither(from, to, marker.gen, store, slot, part.sealed);
        if (plain === undefined) continue;
        const resealed = await to.seal(store, slot, plain);
        plain.fill(0);
        // Keep any clear fields beside the sealed part (a pending commit's hash, a message's seq).
        const next = part.inline ? { ...(value as object), sealed: resealed } : { ...(value as object), ...resealed };
        rewrites.push({ key, iv: part.sealed.iv, value: next });
      }
      if (rewrites.length === 0) continue;
      options.interrupt?.(rewritten, 'sealed');
      const wtx = db.transaction(store, 'readwrite');
      const os = wtx.store as unknown as { keyPath: unknown; get(k: IDBValidKey): Promise<unknown>; put(v: unknown, k?: IDBValidKey): Promise<unknown> };
      try {
        for (const r of rewrites) {
          const current = sealedPart(await os.get(r.key));
          // Compare-and-swap: only the record that was read is replaced.
          if (current === undefined || !sameBytes(current.sealed.iv, r.iv)) continue;
          await (os.keyPath === null ? os.put(r.value, r.key) : os.put(r.value));
          options.interrupt?.(rewritten + 1, 'write');
          rewritten++;
        }
        await wtx.done;
      } catch (err) {
        // The abort rejects the transaction too; `err` is the failure that counts.
        wtx.done.catch(() => undefined);
        try {
          wtx.abort();
        } catch {
          // already finished or aborted
        }
        throw err;
      }
      options.interrupt?.(rewritten, 'committed');
    }
  }
  return rewritten;
}

/** Step 3: the new key becomes the current one; the old key and the marker go, in one transaction. */
export async function finishRotation(db: Database, marker: RotationMarker): Promise<void> {
  const tx = keyTx(db);
  const keys = tx.objectStore('keys');
  const settings = tx.objectStore('settings');
  if (marker.to === 'wrapped') {
    const next = await settings.get(WRAPPED_NEXT);
    if (next === undefined) throw new VaultError('corrupt', 'the rotation lost its new wrapped key');
    await settings.put(next, WRAPPED);
    await settings.delete(WRAPPED_NEXT);
    await keys.delete(DEVICE_KEY);
    await keys.delete(NEXT_DEVICE_KEY);
  } else {
    const next = await keys.get(NEXT_DEVICE_KEY);
    if (next === undefined) throw new VaultError('corrupt', 'the rotation lost its new device key');
    await keys.put(next, DEVICE_KEY);
    await keys.delete(NEXT_DEVICE_KEY);
    await settings.delete(WRAPPED);
    await settings.delete(WRAPPED_NEXT);
  }
  await settings.delete(ROTATION);
  await tx.done;
}

/** Steps 2 and 3 for a rotation found on disk (both keys in hand after the unlock). */
export async function resumeRotation(db: Database, from: Vault, to: Vault, marker: RotationMarker, options: RotationOptions = {}): Promise<void> {
  const rewritten = await rewriteRecords(db, from, to, marker, options);
  options.interrupt?.(rewritten, 'rewritten');
  await finishRotation(db, marker);
}

/**
 * The whole rotation, with writers held back: afterwards `live` (the vault
 * everyone holds) seals and opens under the new key, and the old key is gone.
 */
export async function rotateDataKey(db: Database, live: Vault, target: RotationTarget, options: RotationOptions = {}): Promise<RotationMarker> {
  return live.exclusive(async () => {
    if ((await loadRotation(db)) !== undefined) throw new VaultError('corrupt', 'another key rotation is unfinished');
    const { marker, next } = await beginRotation(db, target);
    options.interrupt?.(0, 'begun');
    await resumeRotation(db, live, next, marker, options);
    live.adopt(next);
    return marker;
  });
}
