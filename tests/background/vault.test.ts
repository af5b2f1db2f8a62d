import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { Vault, VaultError, type KeySlot } from '../../lib/background/vault.ts';
import { openDatabase, vaultKeySlot } from '../../lib/background/db.ts';

function memorySlot(): KeySlot & { key?: CryptoKey } {
  const slot: KeySlot & { key?: CryptoKey } = {
    load: async () => slot.key,
    store: async (k) => {
      slot.key = k;
    },
  };
  return slot;
}

describe('vault', () => {
  it('creates one non-extractable AES-256-GCM data key and reuses it', async () => {
    const slot = memorySlot();
    const a = await Vault.open(slot);
    const key = slot.key!;
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    const sealed = await a.seal('groups', 'g1', new Uint8Array([1, 2, 3]));
    const b = await Vault.open(slot);
    expect(slot.key).toBe(key);
    expect(await b.open('groups', 'g1', sealed)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('hides the plaintext and uses a fresh IV each time', async () => {
    const v = await Vault.open(memorySlot());
    const secret = new TextEncoder().encode('epoch secret canary 7f3a');
    const r1 = await v.seal('groups', 'g1', secret);
    const r2 = await v.seal('groups', 'g1', secret);
    expect(r1.ct).not.toEqual(r2.ct);
    expect(r1.iv).not.toEqual(r2.iv);
    expect(Buffer.from(r1.ct).includes(Buffer.from(secret))).toBe(false);
    expect(r1.ct.length).toBe(secret.length + 16);
  });

  it('rejects a record moved to another slot, tampered, or of an unknown version', async () => {
    const v = await Vault.open(memorySlot());
    const r = await v.seal('groups', 'g1', new Uint8Array([9]));
    await expect(v.open('groups', 'g2', r)).rejects.toMatchObject({ code: 'corrupt' });
    await expect(v.open('messages', 'g1', r)).rejects.toMatchObject({ code: 'corrupt' });
    const flipped = { ...r, ct: r.ct.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    await expect(v.open('groups', 'g1', flipped)).rejects.toBeInstanceOf(VaultError);
    await expect(v.open('groups', 'g1', { ...r, v: 2 })).rejects.toMatchObject({ code: 'unsupported-version' });
    await expect(v.open('groups', 'g1', { iv: 'x' })).rejects.toMatchObject({ code: 'corrupt' });
  });

  it('does not decrypt with another device key', async () => {
    const r = await (await Vault.open(memorySlot())).seal('s', 'i', new Uint8Array([1]));
    await expect((await Vault.open(memorySlot())).open('s', 'i', r)).rejects.toMatchObject({ code: 'corrupt' });
  });

  it('refuses an extractable stored key', async () => {
    const slot = memorySlot();
    slot.key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    await expect(Vault.open(slot)).rejects.toMatchObject({ code: 'corrupt' });
  });

  it('keeps its key in IndexedDB across reopen (schema migration to v2)', async () => {
    const name = `vault-${Math.random()}`;
    const db1 = await openDatabase(name);
    const r = await (await Vault.open(vaultKeySlot(db1))).sealJson('settings', 'x', { hello: 'world' });
    db1.close();
    const db2 = await openDatabase(name);
    expect(await (await Vault.open(vaultKeySlot(db2))).openJson('settings', 'x', r)).toEqual({ hello: 'world' });
  });

  it('tags what it seals with its generation; adopting another vault switches key and tag in place', async () => {
    const a = await Vault.open(memorySlot());
    expect((await a.seal('s', 'i', new Uint8Array([1]))).g).toBeUndefined();
    const b = await Vault.fromRawKey(crypto.getRandomValues(new Uint8Array(32)), 42);
    const r = await b.seal('s', 'i', new Uint8Array([2]));
    expect(r.g).toBe(42);
    await expect(a.open('s', 'i', r)).rejects.toMatchObject({ code: 'corrupt' });
    a.adopt(b);
    expect(a.generation).toBe(42);
    expect(await a.open('s', 'i', r)).toEqual(new Uint8Array([2]));
  });

  it('exclusive() waits for writers in flight and holds back new ones until it is done', async () => {
    const v = await Vault.open(memorySlot());
    const log: string[] = [];
    let release!: () => void;
    const w1 = v.writing(async () => {
      log.push('w1 start');
      await new Promise<void>((r) => (release = r));
      log.push('w1 end');
    });
    const ex = v.exclusive(async () => {
      log.push('rotate');
    });
    const w2 = v.writing(async () => {
      log.push('w2');
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['w1 start']);
    release();
    await Promise.all([w1, ex, w2]);
    expect(log).toEqual(['w1 start', 'w1 end', 'rotate', 'w2']);
  });
});
