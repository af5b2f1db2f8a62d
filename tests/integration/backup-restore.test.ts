// Backup and restore (issue #19) against a real relay process. Alice is a real BackgroundApp with
// real conversations and messages; her backup inputs are read over the view channel (state.get,
// messages.page), written with the real BackupWriter and RelayBackup client, and restored into a
// fresh BackgroundApp (a new profile that registered a new passkey) with the real Restore.
// What is NOT real here yet (wired by the lead at merge, see the report): the identity material is
// opaque test bytes (the identity part encodes and adopts it); rejoining is a recording fake (the
// healing part's ChatService.rejoin), so this test does not claim that a conversation is rejoined;
// the writer's session is an account registered for the test, not the app's own session.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStore } from '../../lib/background/chat-store.ts';
import { vaultKeySlot } from '../../lib/background/db.ts';
import { linkedHistory, storedHistoryPort } from '../../lib/background/linking/history-port.ts';
import type { HistoryRecord } from '../../lib/background/linking/ports.ts';
import { Vault } from '../../lib/background/vault.ts';
import type { BackupSettings } from '../../lib/background/backup/backup-content.ts';
import { BackupFile, RelayBackup, encodeBackupFile } from '../../lib/background/backup/backup-storage.ts';
import { BackupWriter, type BackupLedger } from '../../lib/background/backup/backup-writer.ts';
import type { BackupInputs, Persisted, RestoreTargets } from '../../lib/background/backup/ports.ts';
import { Restore, type RestoreJob } from '../../lib/background/backup/restore.ts';
import { RESTORE_JOB_ID, sealedRecord } from '../../lib/background/backup/sealed-state.ts';
import { deriveBackupKeys, formatRecoveryKey, generateRecoverySecret, type ItemName } from '../../lib/background/backup/recovery-key.ts';
import { dumpRelayDatabase, startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient } from '../relay/support/client.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

const IDENTITY = new TextEncoder().encode('opaque identity material of the test');
const DISPLAY = 'Alice Quillfeather';
const NAMES = ['Mountain Walkers Club', 'Quarterly Budget Review'];
const TEXTS = ['the treasure is under the third oak', 'budget approved at four million', 'see you at nine'];

function memory<T>(): Persisted<T> & { value: T | undefined } {
  const m = {
    value: undefined as T | undefined,
    load: async () => (m.value === undefined ? undefined : structuredClone(m.value)),
    save: async (v: T) => void (m.value = structuredClone(v)),
    clear: async () => void (m.value = undefined),
  };
  return m;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Backup inputs read from a running app over its view channel. */
function channelInputs(device: Device, backupHistory: boolean): BackupInputs {
  const h = device.app.handlers;
  return {
    identity: async () => IDENTITY,
    displayName: async () => {
      const a = (await h['state.get'](null)).account;
      return a.state === 'ready' ? a.displayName : '';
    },
    settings: async (): Promise<BackupSettings> => {
      const s = (await h['state.get'](null)).settings;
      return { notifications: s.notifications, notificationContent: s.notificationContent, readReceipts: s.readReceipts, backupHistory };
    },
    conversations: async () => (await h['state.get'](null)).conversations.map((c) => ({ id: c.id, name: c.name })),
    history: async (conversationId) => {
      const out: HistoryRecord[] = [];
      let beforeSeq: number | null = null;
      for (;;) {
        const page = await h['messages.page']({ conversationId, beforeSeq, limit: 100 });
        out.unshift(
          ...page.messages
            .filter((m) => m.status !== 'sending' && m.status !== 'failed')
            .map((m) => ({ conversationId, id: m.id, kind: m.kind, text: m.text, sender: { displayName: m.sender.displayName, self: m.sender.self }, sentAt: m.sentAt })),
        );
        if (page.nextBeforeSeq === undefined) return out;
        beforeSeq = page.nextBeforeSeq;
      }
    },
  };
}

/** Restore targets on a fresh app: its channel for the account, its history stash (as linking keeps it) for history. */
async function freshTargets(device: Device): Promise<RestoreTargets & { identity?: Uint8Array }> {
  const h = device.app.handlers;
  const vault = await Vault.open(vaultKeySlot(device.db));
  // importPage uses only the database and the vault (the chat store is for reading this device's own history).
  const stash = storedHistoryPort(device.db, vault, undefined as unknown as ChatStore);
  const t: RestoreTargets & { identity?: Uint8Array } = {
    adoptIdentity: async (identity) => void (t.identity = identity),
    importAccount: async (displayName, s) => {
      await h['account.setDisplayName']({ displayName });
      await h['settings.setNotifications']({ enabled: s.notifications });
      await h['settings.setNotificationContent']({ content: s.notificationContent });
      await h['settings.setReadReceipts']({ enabled: s.readReceipts });
    },
    importHistory: (records) => stash.importPage(records),
  };
  return t;
}

describe('backup and restore against a real relay', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  const ids: string[] = [];
  const secret = generateRecoverySecret();
  const keys = deriveBackupKeys(secret);
  const typed = formatRecoveryKey(secret);
  let session: string;

  beforeAll(async () => {
    relay = await startRelay();
    alice = await startDevice(relay.url, DISPLAY);
    bob = await startDevice(relay.url, 'Bob');
    session = (await new RelayClient(relay.url).register()).session;
    for (const name of NAMES) ids.push((await alice.app.handlers['conversation.create']({ name })).conversationId);
    await alice.app.handlers['settings.setReadReceipts']({ enabled: false });
    await alice.app.handlers['settings.setNotificationContent']({ content: 'name' });
    await alice.app.handlers['message.send']({ conversationId: ids[0]!, text: TEXTS[0]! });
    await alice.app.handlers['message.send']({ conversationId: ids[1]!, text: TEXTS[1]! });
    await alice.app.handlers['message.send']({ conversationId: ids[1]!, text: TEXTS[2]! });
    await waitUntil(async () => (await channelInputs(alice, true).history(ids[1]!)).filter((r) => r.kind === 'text').length === 2, 15_000, 'sent');
  }, 90_000);
  afterAll(async () => {
    await alice?.app.stop();
    await bob?.app.stop();
    await relay?.stop();
  });

  const sink = () => new RelayBackup(relay.url, keys.backupId, keys.accessSecret, { session: async () => session });
  const rejoinSource = { ticketFor: async (id: string) => new TextEncoder().encode(`ticket:${id}`) };

  it('backs up, then a fresh profile restores identity, settings and history with the key; the relay holds no plaintext', async () => {
    const ledger = memory<BackupLedger>();
    const writer = new BackupWriter(keys, sink(), channelInputs(alice, true), rejoinSource, ledger);
    await writer.runNow();
    expect(writer.status).toMatchObject({ state: 'done', uploaded: 3 });
    // A new message re-uploads only that conversation's segment and the manifest.
    await alice.app.handlers['message.send']({ conversationId: ids[0]!, text: 'one more' });
    await waitUntil(async () => (await channelInputs(alice, true).history(ids[0]!)).some((r) => r.text === 'one more'), 15_000, 'sent');
    await writer.runNow();
    expect(writer.status).toMatchObject({ state: 'done', uploaded: 2 });

    // The relay's database files: no message text, display name or conversation name, nor the key.
    const raw = Buffer.concat(files(relay.dataDir).map((f) => readFileSync(f)));
    for (const s of [...TEXTS, 'one more', DISPLAY, ...NAMES, typed, typed.replace(/-/g, ''), ...ids]) {
      expect(raw.indexOf(Buffer.from(s)), s).toBe(-1);
    }
    expect(raw.indexOf(Buffer.from(keys.key))).toBe(-1);

    const fresh = await startDevice(relay.url, 'New profile');
    const targets = await freshTargets(fresh);
    const rejoined: string[] = [];
    const restore = new Restore({
      source: new RelayBackup(relay.url, keys.backupId, keys.accessSecret),
      targets,
      rejoiner: { rejoin: async (id) => void rejoined.push(id) },
      jobs: memory<RestoreJob>(),
    });
    const t0 = performance.now();
    const job = await restore.start(typed);
    console.log(`restore of ${ids.length} conversations: ${Math.round(performance.now() - t0)} ms`);
    expect(job.conversations.map((c) => [c.name, c.state])).toEqual(NAMES.map((n) => [n, 'rejoined']));
    expect(rejoined).toEqual(ids);
    expect(targets.identity).toEqual(IDENTITY);
    expect(fresh.app.snapshot.account).toMatchObject({ state: 'ready', displayName: DISPLAY });
    expect(fresh.app.snapshot.settings).toMatchObject({ readReceipts: false, notificationContent: 'name' });
    const vault = await Vault.open(vaultKeySlot(fresh.db));
    expect((await linkedHistory(fresh.db, vault, ids[0]!)).filter((r) => r.kind === 'text').map((r) => r.text)).toEqual([TEXTS[0], 'one more']);
    expect((await linkedHistory(fresh.db, vault, ids[1]!)).filter((r) => r.kind === 'text').map((r) => r.text)).toEqual([TEXTS[1], TEXTS[2]]);
    await fresh.app.stop();
  }, 90_000);

  it('a wrong recovery key is refused and nothing is created at the relay', async () => {
    const fresh = await startDevice(relay.url, 'Wrong key', { register: false });
    const before = await dumpRelayDatabase(relay.dataDir);
    const wrong = deriveBackupKeys(generateRecoverySecret());
    const restore = new Restore({
      source: new RelayBackup(relay.url, wrong.backupId, wrong.accessSecret),
      targets: {
        adoptIdentity: async () => expect.fail('nothing adopted with a wrong key'),
        importAccount: async () => expect.fail('nothing imported with a wrong key'),
        importHistory: async () => expect.fail('nothing imported with a wrong key'),
      },
      rejoiner: { rejoin: async () => expect.fail('no rejoin with a wrong key') },
      jobs: memory<RestoreJob>(),
    });
    // The typed key of another backup: it passes the local check, and the relay finds nothing.
    await expect(restore.start(formatRecoveryKey(generateRecoverySecret()))).rejects.toMatchObject({ reason: 'no_backup' });
    // And with the right backup id but a guessed secret: the same.
    const guessed = new RelayBackup(relay.url, keys.backupId, wrong.accessSecret);
    expect(await guessed.list()).toBeNull();
    const after = await dumpRelayDatabase(relay.dataDir);
    expect(JSON.stringify(after.backups)).toBe(JSON.stringify(before.backups));
    expect(JSON.stringify(after.backup_items)).toBe(JSON.stringify(before.backup_items));
    expect(JSON.stringify(after.accounts)).toBe(JSON.stringify(before.accounts));
    expect(fresh.app.snapshot.account.state).toBe('none');
    await fresh.app.stop();
  }, 60_000);

  it('a restore stopped mid-way resumes from its saved job; the backup file restores without the relay', async () => {
    const items = new Map<ItemName, Uint8Array>();
    const source = new RelayBackup(relay.url, keys.backupId, keys.accessSecret);
    for (const { item } of (await source.list()) ?? []) items.set(item as ItemName, (await source.get(item as ItemName))!);
    const file = BackupFile.read(encodeBackupFile(keys.backupId, items));

    const fresh = await startDevice(relay.url, 'Resumed profile');
    const targets = await freshTargets(fresh);
    // The job is sealed in the profile's database, as the app keeps it; the resume reads it through a new vault handle.
    const jobs = sealedRecord<RestoreJob>(fresh.db, await Vault.open(vaultKeySlot(fresh.db)), RESTORE_JOB_ID);
    const rejoined: string[] = [];
    let stopAfterFirst = true;
    const rejoiner = {
      rejoin: async (id: string) => {
        rejoined.push(id);
        // The worker "dies" right after the first conversation: simulated by an error past the job (nothing marks it).
        if (stopAfterFirst && rejoined.length === 1) throw Object.assign(new Error('worker stopped'), { stop: true });
      },
    };
    const whyNot = (err: unknown) => {
      if ((err as { stop?: boolean }).stop === true) throw err;
      return 'error' as const;
    };
    await expect(new Restore({ source: file.sourceFor(keys.backupId), targets, rejoiner, jobs, whyNot }).start(typed)).rejects.toThrow('worker stopped');
    expect((await jobs.load())?.phase).toBe('rejoin');
    // Sealed: neither the recovery key nor a conversation name is in the database in the clear.
    const stored = JSON.stringify(await fresh.db.get('secrets', RESTORE_JOB_ID));
    expect(stored).not.toContain(NAMES[0]!);
    expect(stored).not.toContain(Buffer.from(secret).toString('base64url'));
    stopAfterFirst = false;
    const reopened = sealedRecord<RestoreJob>(fresh.db, await Vault.open(vaultKeySlot(fresh.db)), RESTORE_JOB_ID);
    const done = await new Restore({ source: file.sourceFor(keys.backupId), targets, rejoiner, jobs: reopened, whyNot }).resume();
    expect(done?.conversations.map((c) => c.state)).toEqual(['rejoined', 'rejoined']);
    // The first conversation was attempted again (its rejoin never finished), the second once.
    expect(rejoined).toEqual([ids[0], ids[0], ids[1]]);
    const vault = await Vault.open(vaultKeySlot(fresh.db));
    expect((await linkedHistory(fresh.db, vault, ids[1]!)).map((r) => r.text)).toContain(TEXTS[1]);
    await fresh.app.stop();
  }, 60_000);
});
