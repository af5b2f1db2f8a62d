// Attacker: the relay that holds the encrypted backup (issue #19, docs/identity.md "Recovery"). It reads
// everything it stores, and when a fresh profile restores, it answers the backup reads as it likes: it
// swaps two items, replays an older segment or an older manifest (a rollback of one item), truncates or
// flips a bit of an item, serves another account's backup under this backup id, or answers with an
// endless or a huge body.
// Defence: every item is AES-256-GCM under the backup key, bound to its backup id and item name
// (BACKUP-AEAD-1); the manifest names each segment's SHA-256 (BACKUP-SEG-1); the restore opens and checks
// every item before it keeps anything (RESTORE-ALL-1, backup/restore.ts verifyBackup), and an answer
// longer than one item is cut off and refused (BACKUP-READ-1, backup-storage.ts). Each attack is refused
// as 'damaged' at restore.open: no account, no secret, nothing adopted on the device, the relay's
// tables unchanged (it was only read), and the same profile restores once the relay answers honestly.
// What stays possible (docs/identity.md): a relay that kept a whole earlier backup (manifest and all its
// segments) can offer it as it was. An outsider with a wrong key finds nothing and creates nothing
// (tests/integration/recovery-app.test.ts, 'refuses a wrong key or a typo').
import { beforeAll, describe, expect, it } from 'vitest';
import { fromB64, toB64 } from '../../lib/bytes.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';
import { RelayBackup } from '../../lib/background/backup/backup-storage.ts';
import { MANIFEST_ITEM } from '../../lib/background/backup/backup-writer.ts';
import { deriveBackupKeys, parseRecoveryKey, type BackupKeys, type ItemName } from '../../lib/background/backup/recovery-key.ts';
import { RESTORE_JOB_ID } from '../../lib/background/backup/sealed-state.ts';
import { BACKUP_ROUTES } from '../../lib/protocol/relay-backups.ts';
import { dumpRelayDatabase, type RelayProcess } from '../support/relay-process.ts';
import { relaySuite } from '../support/relay-suite.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';
import { register, relayBytes } from '../integration/support/recovery.ts';

const DISPLAY = 'Alice Quillfeather';
const NAMES = ['Mountain Walkers Club', 'Quarterly Budget Review'];
const TEXTS = ['the treasure is under the third oak', 'budget approved at four million'];
const FAST = { backupDelayMs: 200 };
/** What one answer may hold at most (backup-storage.ts MAX_ANSWER_BYTES), and the few 1 MiB chunks a stream reads ahead. */
const READ_BOUND = Math.ceil((4 * 1024 * 1024 * 4) / 3) + 64 * 1024 + 4 * 1024 * 1024;

const chatOf = (d: Device): ChatService => (d.app as unknown as { chat: ChatService }).chat;

/** Keeps a recovery key on the device and waits for its backup. */
async function keepKey(d: Device): Promise<string> {
  const shown = await d.app.handlers['recovery.create'](null);
  const groups = shown.recoveryKey.split('-');
  await d.app.handlers['recovery.confirm']({ first: groups[shown.groups[0]]!, second: groups[shown.groups[1]]! });
  await waitUntil(() => d.app.snapshot.backup?.state === 'done', 30_000, `${d.name} backed up`);
  return shown.recoveryKey;
}

/** Every item of a backup as the relay holds it. */
async function itemsOf(relayUrl: string, keys: BackupKeys): Promise<Map<string, Uint8Array>> {
  const slot = new RelayBackup(relayUrl, keys.backupId, keys.accessSecret);
  const out = new Map<string, Uint8Array>();
  for (const { item } of (await slot.list())!) out.set(item, (await slot.get(item as ItemName))!);
  return out;
}

/** The relay's answer to a backup item read, as the attacker rewrites it: new bytes, or a whole Response. */
type Rewrite = (item: string, data: Uint8Array) => Uint8Array | Response;

describe('a hostile relay holding the backup', () => {
  const suite = relaySuite();
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  let recoveryKey = '';
  let keys: BackupKeys;
  let manifestItem = '';
  let older = new Map<string, Uint8Array>();
  let current = new Map<string, Uint8Array>();
  let bobItems = new Map<string, Uint8Array>();
  let bobManifest = '';
  let rewrite: Rewrite | undefined;

  /** The restoring profile's network: the real relay, with item reads rewritten while `rewrite` is set. */
  const hostile: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await fetch(input, init);
    if (rewrite === undefined || !url.endsWith(BACKUP_ROUTES.getBackupItem.path) || !res.ok) return res;
    const { item } = JSON.parse(String(init?.body)) as { item: string };
    const out = rewrite(item, fromB64(((await res.json()) as { data: string }).data)!);
    return out instanceof Response ? out : Response.json({ data: toB64(out) });
  };

  beforeAll(async () => {
    relay = suite.relay;
    [alice, bob] = suite.keep(...(await Promise.all([startDevice(relay.url, DISPLAY, { deps: FAST }), startDevice(relay.url, 'Bob', { deps: FAST })])));
    await waitUntil(() => [alice, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    const ids: string[] = [];
    for (const name of NAMES) ids.push((await alice.app.handlers['conversation.create']({ name })).conversationId);
    await alice.app.handlers['settings.setBackupHistory']({ enabled: true });
    for (const [i, text] of TEXTS.entries()) await alice.app.handlers['message.send']({ conversationId: ids[i]!, text });
    recoveryKey = await keepKey(alice);
    keys = deriveBackupKeys(parseRecoveryKey(recoveryKey));
    manifestItem = keys.itemName(MANIFEST_ITEM);
    older = await itemsOf(relay.url, keys);
    // One more text: its conversation's last segment (under a new name) and the manifest are written again.
    const first = alice.app.snapshot.backup;
    await alice.app.handlers['message.send']({ conversationId: ids[1]!, text: 'one more for the record' });
    await waitUntil(() => { const b = alice.app.snapshot.backup; return b?.state === 'done' && first?.state === 'done' && b.at > first.at; }, 30_000, 'a second backup');
    current = await itemsOf(relay.url, keys);
    // Bob keeps a backup of his own at the same relay.
    const bobKeys = deriveBackupKeys(parseRecoveryKey(await keepKey(bob)));
    bobItems = await itemsOf(relay.url, bobKeys);
    bobManifest = bobKeys.itemName(MANIFEST_ITEM);
  }, 180_000);

  it('stores nothing readable: no text, display name, conversation name or id, identity or key in its files', async () => {
    const own = chatOf(alice).people!.own;
    const raw = relayBytes(relay.dataDir);
    const ids = alice.app.snapshot.conversations.map((c) => c.id);
    const secrets = [...TEXTS, DISPLAY, ...NAMES, ...ids, recoveryKey, recoveryKey.replace(/-/g, ''), own.personId, own.identityKey, own.deviceKey, toB64(keys.key), toB64(keys.accessSecret)];
    for (const s of secrets) expect(raw.indexOf(Buffer.from(s)), s).toBe(-1);
    for (const bytes of [keys.key, keys.accessSecret, fromB64(own.identityKey)!]) expect(raw.indexOf(Buffer.from(bytes))).toBe(-1);
    // It holds Alice's items, and they are what it serves.
    expect(current.has(manifestItem)).toBe(true);
    expect(current.size).toBeGreaterThanOrEqual(3);
  });

  it('every tampered answer is refused as damaged; nothing is created or kept; the same profile restores afterwards', async () => {
    const segments = [...current.keys()].filter((k) => k !== manifestItem).sort();
    // A changed segment goes under a new name (its content hash in it); the one it replaced is gone from the relay.
    const changed = segments.filter((k) => !older.has(k));
    const replaced = [...older.keys()].filter((k) => k !== manifestItem && !current.has(k));
    expect(changed).toHaveLength(1);
    expect(replaced).toHaveLength(1);
    const flip = (d: Uint8Array, at: number): Uint8Array => { const c = d.slice(); c[at]! ^= 0x01; return c; };
    let pulled = 0;
    const endless = (): Response =>
      new Response(new ReadableStream<Uint8Array>({ pull: (c) => { const chunk = new Uint8Array(64 * 1024).fill(0x41); pulled += chunk.length; c.enqueue(chunk); } }), { status: 200 });
    // 64 MiB of one base64 string, handed out as it is read.
    const huge = (): Response => {
      let sent = 0;
      const pull = (c: ReadableStreamDefaultController<Uint8Array>): void => {
        const chunk = Buffer.from(sent === 0 ? `{"data":"${'A'.repeat((1 << 20) - 9)}` : sent >= 64 << 20 ? '"}' : 'A'.repeat(1 << 20));
        if (sent > 64 << 20) return c.close();
        sent += chunk.length;
        pulled += chunk.length;
        c.enqueue(chunk);
      };
      return new Response(new ReadableStream<Uint8Array>({ pull }), { status: 200 });
    };
    const attacks: [string, Rewrite][] = [
      ['a bit of the manifest flipped', (item, d) => (item === manifestItem ? flip(d, d.length - 20) : d)],
      ['the manifest truncated', (item, d) => (item === manifestItem ? d.subarray(0, d.length - 16) : d)],
      ['a bit of a segment flipped', (item, d) => (item === segments[0] ? flip(d, 40) : d)],
      ['a segment truncated', (item, d) => (item === segments[0] ? d.subarray(0, 1024) : d)],
      ['two segments swapped', (item, d) => (item === segments[0] ? current.get(segments[1]!)! : item === segments[1] ? current.get(segments[0]!)! : d)],
      ['a segment served as the manifest', (item, d) => (item === manifestItem ? current.get(segments[0]!)! : d)],
      ['an older copy of a segment (rollback of one item)', (item, d) => (item === changed[0] ? older.get(replaced[0]!)! : d)],
      ['an older manifest with the current segments', (item, d) => (item === manifestItem ? older.get(manifestItem)! : d)],
      ["another account's manifest under this backup id", (item, d) => (item === manifestItem ? bobItems.get(bobManifest)! : d)],
      ['an endless body', (item, d) => (item === segments[0] ? endless() : d)],
      ['a 64 MiB body', (item, d) => (item === manifestItem ? huge() : d)],
    ];

    const before = await dumpRelayDatabase(relay.dataDir);
    const fresh = await startDevice(relay.url, 'Restored', { register: false, fetch: hostile, deps: FAST });
    for (const [what, attack] of attacks) {
      rewrite = attack;
      pulled = 0;
      expect(await fresh.app.handlers['restore.open']({ recoveryKey }), what).toEqual({ ok: false, reason: 'damaged' });
      expect(pulled, `${what}: bytes read`).toBeLessThanOrEqual(READ_BOUND);
      // Refused, so there is nothing to start.
      await expect(fresh.app.handlers['restore.start'](null), what).rejects.toThrow();
      expect(fresh.app.snapshot.account.state, what).toBe('none');
      expect(fresh.app.snapshot.restore, what).toBeUndefined();
      expect(await fresh.db.getAll('secrets'), what).toEqual([]);
    }
    const after = await dumpRelayDatabase(relay.dataDir);
    for (const table of ['accounts', 'backups', 'backup_items', 'mailboxes', 'queues']) expect(JSON.stringify(after[table]), table).toBe(JSON.stringify(before[table]));

    // The relay answers honestly again: the same profile restores.
    rewrite = undefined;
    expect(await fresh.app.handlers['restore.open']({ recoveryKey })).toEqual({ ok: true, displayName: DISPLAY });
    fresh.app.stop();
  }, 240_000);

  it('damage served only after the key was accepted is refused before anything is adopted, and the restore starts again', async () => {
    const fresh = await startDevice(relay.url, 'Restored later', { register: false, fetch: hostile, deps: FAST });
    rewrite = undefined;
    expect(await fresh.app.handlers['restore.open']({ recoveryKey })).toEqual({ ok: true, displayName: DISPLAY });
    await register(fresh, DISPLAY);
    const mine = chatOf(fresh).people!.own.personId;
    const segment = [...current.keys()].find((k) => k !== manifestItem)!;
    rewrite = (item, d) => (item === segment ? d.subarray(0, 1024) : d);
    await fresh.app.handlers['restore.start'](null);
    await (fresh.app as unknown as { restore: { settled(): Promise<void> } }).restore.settled();
    // No job kept, no identity adopted, nothing shown as restored.
    expect(await fresh.db.get('secrets', RESTORE_JOB_ID)).toBeUndefined();
    expect(chatOf(fresh).people!.own.personId).toBe(mine);
    expect(chatOf(fresh).people!.own.personId).not.toBe(chatOf(alice).people!.own.personId);
    expect(fresh.app.snapshot.restore?.step).not.toBe('done');
    // The relay answers honestly again: the restore is started once more and completes.
    rewrite = undefined;
    await fresh.app.handlers['restore.start'](null);
    await waitUntil(() => fresh.app.snapshot.restore?.step === 'done', 60_000, () => `restore done (${JSON.stringify(fresh.app.snapshot.restore)})`);
    expect(chatOf(fresh).people!.own.personId).toBe(chatOf(alice).people!.own.personId);
    fresh.app.stop();
  }, 120_000);
});
