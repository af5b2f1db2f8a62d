// The backup API (relay/backups/, lib/protocol/relay-backups.ts) against the real relay process on
// both stores: put / list / get / drop / delete with the access secret; a wrong secret is the same
// not_found as an unknown backup and creates nothing; the account quota refused with its code and
// nothing stored; a restored account (another account with the secret) takes the backup over;
// deleting the account deletes its backups; the store's files hold only ciphertext, and not the secret.
import { randomFillSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { BACKUP_ROUTES, decodeGetBackupItem, decodeListBackup, decodePutBackupItem } from '../../lib/protocol/relay-backups.ts';
import { ROUTES } from '../../lib/protocol/relay.ts';
import { ConfigError, loadConfig } from '../../relay/config.ts';
import { STORE_KINDS, startRelayOn, type StoreRelay } from './support/stores.ts';
import { RelayClient, type Account, type Answer } from './support/client.ts';
import { filesContaining, reachesDisk, until } from './support/store-files.ts';

const ITEM_MAX = 64 * 1024;
const QUOTA_ARGS = ['--max-backup-item-bytes', String(ITEM_MAX), '--max-backup-bytes-per-account', String(3 * ITEM_MAX), '--max-backup-items-per-account', '5'];
const TIMING_ARGS = ['--scrub-interval-ms', '200'];
const REDIS_ARGS = ['--redis-aof-rewrite-interval-seconds', '0'];

const rand = (n: number): Uint8Array => randomFillSync(new Uint8Array(n));
const id = (): string => toB64(rand(16));

function canary(label: string, size: number): Uint8Array {
  const out = rand(size);
  out.set(new TextEncoder().encode(`CANARY-${label}-`));
  return out;
}

const code = (a: Answer): unknown => (a.body.error as { code?: unknown } | undefined)?.code;

interface Slot {
  backupId: string;
  secret: string;
}
const newSlot = (): Slot => ({ backupId: id(), secret: toB64(rand(32)) });

describe.each(STORE_KINDS)('relay backup API (%s store)', (kind) => {
  let relay: StoreRelay;
  let c: RelayClient;
  let alice: Account;
  const put = (account: Account, slot: Slot, item: string, data: Uint8Array): Promise<Answer> =>
    c.post(BACKUP_ROUTES.putBackupItem.path, { ...slot, item, data: toB64(data) }, account.session);
  const list = (slot: Slot): Promise<Answer> => c.post(BACKUP_ROUTES.listBackup.path, slot);
  const get = (slot: Slot, item: string): Promise<Answer> => c.post(BACKUP_ROUTES.getBackupItem.path, { ...slot, item });

  beforeAll(async () => {
    relay = await startRelayOn(kind, { args: [...QUOTA_ARGS, ...TIMING_ARGS], redisArgs: REDIS_ARGS });
    c = new RelayClient(relay.url);
    alice = await c.register();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('stores items under the secret, lists, reads, replaces and drops them; the files hold the ciphertext, never the secret', async () => {
    const slot = newSlot();
    const manifest = id();
    const segment = id();
    const first = canary(`m1-${kind}`, 1000);
    const r1 = await put(alice, slot, manifest, first);
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    expect(decodePutBackupItem(r1.body)).toEqual({ bytes: 1000, maxBytes: 3 * ITEM_MAX });
    expect(decodePutBackupItem((await put(alice, slot, segment, canary('s', 500))).body).bytes).toBe(1500);
    expect(decodeListBackup((await list(slot)).body)).toEqual([{ item: manifest, size: 1000 }, { item: segment, size: 500 }].sort((a, b) => (a.item < b.item ? -1 : 1)));
    expect(Buffer.from(decodeGetBackupItem((await get(slot, manifest)).body, ITEM_MAX)).equals(Buffer.from(first))).toBe(true);
    // Replacing an item counts its new size only.
    const second = canary(`m2-${kind}`, 2000);
    expect(decodePutBackupItem((await put(alice, slot, manifest, second)).body).bytes).toBe(2500);
    expect(Buffer.from(decodeGetBackupItem((await get(slot, manifest)).body, ITEM_MAX)).equals(Buffer.from(second))).toBe(true);
    expect(await reachesDisk(relay, second)).toBe(true);
    const raw = relay.rawFiles();
    expect(raw.indexOf(Buffer.from(slot.secret)), 'secret as text').toBe(-1);
    expect(raw.indexOf(Buffer.from(slot.secret, 'base64url')), 'secret as bytes').toBe(-1);
    // The replaced ciphertext leaves the files (secure_delete and WAL truncation; AOF rewrite).
    expect(await until(() => filesContaining(relay, first).length === 0, 8000)).toBe(true);
    expect((await c.post(BACKUP_ROUTES.dropBackupItem.path, { ...slot, item: segment })).status).toBe(200);
    expect(code(await get(slot, segment))).toBe('not_found');
    expect(code(await c.post(BACKUP_ROUTES.dropBackupItem.path, { ...slot, item: segment }))).toBe('not_found');
  });

  it('a wrong secret is the same not_found as an unknown backup, on every route, and creates nothing', async () => {
    const slot = newSlot();
    const item = id();
    const data = canary(`wrong-${kind}`, 300);
    expect((await put(alice, slot, item, data)).status).toBe(200);
    const wrong = { backupId: slot.backupId, secret: toB64(rand(32)) };
    const unknown = newSlot();
    for (const s of [wrong, unknown]) {
      expect([(await list(s)).status, code(await list(s))]).toEqual([404, 'not_found']);
      expect(code(await get(s, item))).toBe('not_found');
      expect(code(await c.post(BACKUP_ROUTES.dropBackupItem.path, { ...s, item }))).toBe('not_found');
      expect(code(await c.post(BACKUP_ROUTES.deleteBackup.path, s))).toBe('not_found');
    }
    // A put with the wrong secret neither overwrites nor adds.
    const evil = canary(`evil-${kind}`, 300);
    expect(code(await put(alice, wrong, item, evil))).toBe('not_found');
    expect(code(await put(alice, wrong, id(), evil))).toBe('not_found');
    expect(filesContaining(relay, evil)).toEqual([]);
    expect(decodeListBackup((await list(slot)).body)).toEqual([{ item, size: 300 }]);
    // Reading an unknown backup creates nothing either.
    const before = JSON.stringify(await relay.dump());
    await list(unknown);
    await get(unknown, item);
    expect(JSON.stringify(await relay.dump())).toBe(before);
    expect(JSON.stringify(await relay.dump())).not.toContain(unknown.backupId);
    // Deleting with the right secret deletes it all.
    expect((await c.post(BACKUP_ROUTES.deleteBackup.path, slot)).status).toBe(200);
    expect(code(await list(slot))).toBe('not_found');
  });

  it('refuses strictly: no session, bad ids, a short secret, an oversized item', async () => {
    const slot = newSlot();
    const noSession = await c.post(BACKUP_ROUTES.putBackupItem.path, { ...slot, item: id(), data: toB64(rand(10)) });
    expect([noSession.status, code(noSession)]).toEqual([401, 'unauthenticated']);
    expect(code(await put(alice, { ...slot, backupId: 'x' }, id(), rand(10)))).toBe('bad_request');
    expect(code(await put(alice, { ...slot, secret: toB64(rand(31)) }, id(), rand(10)))).toBe('bad_request');
    expect(code(await put(alice, slot, 'not-an-id', rand(10)))).toBe('bad_request');
    expect(code(await put(alice, slot, id(), new Uint8Array(0)))).toBe('bad_request');
    const big = await put(alice, slot, id(), rand(ITEM_MAX + 1));
    expect([400, 413]).toContain(big.status);
    expect(code(await c.post(BACKUP_ROUTES.listBackup.path, { ...slot, extra: 1 }))).not.toBe(undefined);
    expect(code(await list(slot))).toBe('not_found');
  });

  it("refuses a put past the account's quota (bytes or items) with quota_exceeded and stores nothing", async () => {
    const bob = await c.register();
    const slot = newSlot();
    for (let i = 0; i < 3; i++) expect((await put(bob, slot, id(), rand(ITEM_MAX))).status).toBe(200);
    const over = canary(`quota-${kind}`, 200);
    const refused = await put(bob, slot, id(), over);
    expect([refused.status, code(refused)]).toEqual([429, 'quota_exceeded']);
    // A second backup of the same account counts too.
    expect(code(await put(bob, newSlot(), id(), over))).toBe('quota_exceeded');
    expect(filesContaining(relay, over)).toEqual([]);
    expect(decodeListBackup((await list(slot)).body)).toHaveLength(3);
    // Replacing an item with one of the same size fits.
    const [first] = decodeListBackup((await list(slot)).body);
    expect((await put(bob, slot, first!.item, rand(ITEM_MAX))).status).toBe(200);
    // Items: 5 at most.
    const carol = await c.register();
    const small = newSlot();
    for (let i = 0; i < 5; i++) expect((await put(carol, small, id(), rand(10))).status).toBe(200);
    expect(code(await put(carol, small, id(), rand(10)))).toBe('quota_exceeded');
  });

  it('a restored account (another account presenting the secret) takes the backup over and its quota', async () => {
    const old = await c.register();
    const restored = await c.register();
    const slot = newSlot();
    const item = id();
    expect((await put(old, slot, item, rand(ITEM_MAX))).status).toBe(200);
    expect((await put(old, slot, id(), rand(ITEM_MAX))).status).toBe(200);
    expect(decodePutBackupItem((await put(restored, slot, id(), rand(100))).body).bytes).toBe(2 * ITEM_MAX + 100);
    // The backup now counts against the new account only: the old one has room again.
    expect(decodePutBackupItem((await put(old, newSlot(), id(), rand(ITEM_MAX))).body).bytes).toBe(ITEM_MAX);
    expect(code(await put(restored, newSlot(), id(), rand(ITEM_MAX)))).toBe('quota_exceeded');
    // Deleting the old account no longer deletes the backup the new one writes.
    expect((await c.post(ROUTES.deleteAccount.path, {}, old.session)).status).toBe(200);
    expect(decodeListBackup((await list(slot)).body)).toHaveLength(3);
  });

  it("deleting the account deletes its backups, and their ciphertext leaves the store's files", async () => {
    const dave = await c.register();
    const slots = [newSlot(), newSlot()];
    const bytes = slots.map((_, i) => canary(`acct-${kind}-${i}`, 4000));
    for (const [i, s] of slots.entries()) expect((await put(dave, s, id(), bytes[i]!)).status).toBe(200);
    expect(await reachesDisk(relay, bytes[0]!)).toBe(true);
    expect((await c.post(ROUTES.deleteAccount.path, {}, dave.session)).status).toBe(200);
    for (const s of slots) expect(code(await list(s))).toBe('not_found');
    const dump = JSON.stringify(await relay.dump());
    expect(dump).not.toContain(dave.accountId);
    expect(dump).not.toContain(slots[0]!.backupId);
    if (kind === 'redis') expect(await relay.inMemory(bytes[0]!.subarray(0, 64))).toBe(false);
    expect(await until(() => bytes.every((b) => filesContaining(relay, b).length === 0), 8000)).toBe(true);
  });

  it('the dump reads every backup key for what it is', async () => {
    const slot = newSlot();
    expect((await put(alice, slot, id(), rand(50))).status).toBe(200);
    const dump = await relay.dump();
    expect((dump.backups ?? []).some((r) => r.backup_id === slot.backupId && r.account_id === alice.accountId)).toBe(true);
    expect((dump.backup_items ?? []).some((r) => r.backup_id === slot.backupId)).toBe(true);
    if (kind === 'redis') expect(dump.unknown ?? []).toEqual([]);
  });
});

describe('backup settings of the relay', () => {
  it('has caps by default, and refuses an item cap a client could not list', () => {
    const c = loadConfig({}, []);
    expect(c.maxBackupItemBytes).toBe(4 * 1024 * 1024);
    expect(c.maxBackupBytesPerAccount).toBe(256 * 1024 * 1024);
    expect(loadConfig({}, ['--max-backup-items-per-account', '4096']).maxBackupItemsPerAccount).toBe(4096);
    expect(() => loadConfig({}, ['--max-backup-items-per-account', '4097'])).toThrow(ConfigError);
  });
});
