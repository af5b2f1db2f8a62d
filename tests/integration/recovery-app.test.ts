// Backup and restore through real BackgroundApps over a real relay process (issue #19): Alice keeps a
// recovery key, her app backs up by itself (debounced) as her conversations and messages change; a fresh
// profile restores with the key over the view channel (restore.open, a new passkey, restore.start) and
// gets her identity back as a NEW device of the same person, her settings and her history. A wrong key
// is refused and the relay's database is unchanged; the relay's database files hold no plaintext; a
// worker stopped in the middle of a restore resumes it when the app starts again; a backup that stops
// reading halfway stops the restore with its reason, to be tried again or given up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackgroundApp } from '../../lib/background/background-app.ts';
import { fromB64, toB64 } from '../../lib/bytes.ts';
import type { ChatService } from '../../lib/background/chat-service.ts';
import { vaultKeySlot } from '../../lib/background/db.ts';
import { linkedHistory } from '../../lib/background/linking/history-port.ts';
import { Vault } from '../../lib/background/vault.ts';
import { RECOVERY_SECRET_ID } from '../../lib/background/app/recovery.ts';
import { formatRecoveryKey, generateRecoverySecret } from '../../lib/background/backup/recovery-key.ts';
import type { RestoreView } from '../../lib/protocol/backup.ts';
import { dumpRelayDatabase, startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';
import { register, relayBytes } from './support/recovery.ts';

const DISPLAY = 'Alice Quillfeather';
const NAMES = ['Mountain Walkers Club', 'Quarterly Budget Review', 'Lighthouse Keepers'];
const TEXTS = ['the treasure is under the third oak', 'budget approved at four million', 'the lamp needs oil by friday'];
const FAST = { backupDelayMs: 200 };

const chatOf = (app: BackgroundApp): ChatService => (app as unknown as { chat: ChatService }).chat;

/** Types the key into a fresh profile, registers its passkey under the backup's name, and starts the restore. */
async function restoreInto(device: Device, recoveryKey: string, file?: string): Promise<void> {
  const opened = await device.app.handlers['restore.open'](file === undefined ? { recoveryKey } : { recoveryKey, file });
  if (!opened.ok) throw new Error(`refused: ${opened.reason}`);
  await register(device, opened.displayName);
  expect(await device.app.handlers['restore.start'](null)).toBeNull();
}

const restoreOf = (device: Device): RestoreView | undefined => device.app.snapshot.restore;

describe('backup and restore in the app', () => {
  let relay: RelayProcess;
  let alice: Device;
  let bob: Device;
  const ids: string[] = [];
  let recoveryKey: string;
  let lost: { personId: string; identityKey: string; deviceKey: string; rosterVersion: number };

  beforeAll(async () => {
    relay = await startRelay();
    alice = await startDevice(relay.url, DISPLAY, { deps: FAST });
    bob = await startDevice(relay.url, 'Bob');
    await waitUntil(() => alice.app.snapshot.connection === 'online' && bob.app.snapshot.connection === 'online', 15_000, 'online');
    for (const name of NAMES) ids.push((await alice.app.handlers['conversation.create']({ name })).conversationId);
    const { link } = await alice.app.handlers['invite.create']({ conversationId: ids[0]!, mode: 'one-time' });
    await bob.app.handlers['invite.join']({ link });
    await alice.app.handlers['settings.setReadReceipts']({ enabled: false });
    await alice.app.handlers['settings.setBackupHistory']({ enabled: true });
    for (const [i, text] of TEXTS.entries()) await alice.app.handlers['message.send']({ conversationId: ids[i]!, text });
    await waitUntil(() => bob.received(ids[0]!).includes(TEXTS[0]!), 20_000, 'Bob got the first text');
  }, 120_000);
  afterAll(async () => {
    alice?.app.stop();
    bob?.app.stop();
    await relay?.stop();
  });

  it('backs up by itself once a recovery key is kept, and again after a change; the relay files hold no plaintext', async () => {
    const h = alice.app.handlers;
    expect(alice.app.snapshot.backup).toBeUndefined();
    const shown = await h['recovery.create'](null);
    const groups = shown.recoveryKey.split('-');
    expect(await h['recovery.confirm']({ first: groups[shown.groups[0]]!, second: groups[shown.groups[1]]! })).toEqual({ confirmed: true });
    recoveryKey = shown.recoveryKey;
    await waitUntil(() => alice.app.snapshot.backup?.state === 'done', 20_000, () => `backup done (${JSON.stringify(alice.app.snapshot.backup)})`);
    const first = alice.app.snapshot.backup;
    // A new message (history is opted in) is backed up after the quiet moment, with no request.
    await h['message.send']({ conversationId: ids[1]!, text: 'one more for the record' });
    await waitUntil(() => { const b = alice.app.snapshot.backup; return b?.state === 'done' && first?.state === 'done' && b.at > first.at; }, 20_000, 'a second backup');

    const raw = relayBytes(relay.dataDir);
    for (const s of [...TEXTS, 'one more for the record', DISPLAY, ...NAMES, recoveryKey, recoveryKey.replace(/-/g, ''), ...ids]) {
      expect(raw.indexOf(Buffer.from(s)), s).toBe(-1);
    }
    const dump = await dumpRelayDatabase(relay.dataDir);
    expect(dump.backup_items!.length).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('refuses a wrong key or a typo with a reason, and creates nothing at the relay', async () => {
    const fresh = await startDevice(relay.url, 'Wrong key', { register: false });
    const before = await dumpRelayDatabase(relay.dataDir);
    const h = fresh.app.handlers;
    expect(await h['restore.open']({ recoveryKey: formatRecoveryKey(generateRecoverySecret()) })).toEqual({ ok: false, reason: 'no_backup' });
    const typo = recoveryKey.slice(0, 5) + (recoveryKey[5] === 'A' ? 'B' : 'A') + recoveryKey.slice(6);
    expect(await h['restore.open']({ recoveryKey: typo })).toEqual({ ok: false, reason: 'typo' });
    expect(await h['restore.open']({ recoveryKey: 'ABCD-EFGH' })).toEqual({ ok: false, reason: 'length' });
    // Not accepted: there is nothing to start.
    await expect(h['restore.start'](null)).rejects.toThrow();
    const after = await dumpRelayDatabase(relay.dataDir);
    for (const table of ['accounts', 'backups', 'mailboxes', 'queues']) {
      expect(JSON.stringify(after[table]), table).toBe(JSON.stringify(before[table]));
    }
    // Which items exist (Alice's running device may rewrite one of hers meanwhile; nothing is added).
    const itemKeys = (rows: Record<string, unknown>[] | undefined) => JSON.stringify((rows ?? []).map((r) => `${String(r.backup_id)}/${String(r.item)}`).sort());
    expect(itemKeys(after.backup_items)).toBe(itemKeys(before.backup_items));
    expect(fresh.app.snapshot.account.state).toBe('none');
    expect(await fresh.db.getAll('secrets')).toEqual([]);
    fresh.app.stop();
  }, 60_000);

  it('restores identity (a new device of the same person), settings and history in a fresh profile', async () => {
    // Her device is lost: it writes no backup any more (a device that came back would; see docs/identity.md).
    const mine = chatOf(alice.app).people!.own;
    lost = { personId: mine.personId, identityKey: mine.identityKey, deviceKey: mine.deviceKey, rosterVersion: mine.roster.version };
    alice.app.stop();
    const fresh = await startDevice(relay.url, 'Restored', { register: false, deps: FAST });
    const t0 = performance.now();
    await restoreInto(fresh, recoveryKey.toLowerCase().replace(/-/g, ' '));
    await waitUntil(() => restoreOf(fresh)?.step === 'done', 60_000, () => `restore done (${JSON.stringify(restoreOf(fresh))})`);
    console.log(`restore of ${ids.length} conversations through the app: ${Math.round(performance.now() - t0)} ms`);
    const view = restoreOf(fresh);
    expect(view?.step === 'done' && view.conversations.map((c) => c.name).sort()).toEqual([...NAMES].sort());

    expect(fresh.app.snapshot.account).toMatchObject({ state: 'ready', displayName: DISPLAY });
    expect(fresh.app.snapshot.settings).toMatchObject({ readReceipts: false, backupHistory: true });
    const restored = chatOf(fresh.app).people!.own;
    expect(restored.personId).toBe(lost.personId);
    expect(restored.identityKey).toBe(lost.identityKey);
    expect(restored.deviceKey).not.toBe(lost.deviceKey);
    expect(restored.roster.devices.map((d) => d.deviceKey)).toEqual(expect.arrayContaining([lost.deviceKey, restored.deviceKey]));
    expect(restored.roster.version).toBeGreaterThan(lost.rosterVersion);

    // Every conversation is back by resync, with its history stored in it (none left waiting in the stash).
    expect(view?.step === 'done' && view.conversations.map((c) => c.state)).toEqual(['rejoined', 'rejoined', 'rejoined']);
    const vault = await Vault.open(vaultKeySlot(fresh.db));
    for (const id of ids) expect(await linkedHistory(fresh.db, vault, id)).toEqual([]);
    const texts = async (id: string) =>
      (await fresh.app.handlers['messages.page']({ conversationId: id, beforeSeq: null, limit: 50 })).messages.filter((m) => m.kind === 'text').map((m) => m.text);
    expect(await Promise.all(ids.map(texts))).toEqual([[TEXTS[0]], [TEXTS[1], 'one more for the record'], [TEXTS[2]]]);
    expect(fresh.app.snapshot.conversations.filter((c) => c.status === 'active').map((c) => c.id).sort()).toEqual([...ids].sort());

    // Bob sees the resync of Alice's new device, and the two keep talking.
    await waitUntil(async () => {
      const page = await bob.app.handlers['messages.page']({ conversationId: ids[0]!, beforeSeq: null, limit: 50 });
      return page.messages.some((m) => m.kind === 'system' && m.text.includes(DISPLAY));
    }, 20_000, 'Bob sees the resync note');
    await fresh.app.handlers['message.send']({ conversationId: ids[0]!, text: 'back on a new device' });
    await waitUntil(() => bob.received(ids[0]!).includes('back on a new device'), 20_000, 'Bob gets the restored device\'s message');
    await bob.app.handlers['message.send']({ conversationId: ids[0]!, text: 'welcome back' });
    await waitUntil(() => fresh.received(ids[0]!).includes('welcome back'), 20_000, 'the restored device gets Bob\'s message');
    // Bob's name came back with the backup (a resync hears no name announcement again).
    const welcome = fresh.events.flatMap((e) => (e.type === 'messages' ? e.messages : [])).find((m) => m.text === 'welcome back');
    expect(welcome?.sender.displayName).toBe('Bob');

    // The key that restored every conversation is this device's recovery key now: the backup goes on under it.
    expect(await fresh.db.get('secrets', RECOVERY_SECRET_ID)).toBeDefined();
    await waitUntil(() => fresh.app.snapshot.backup?.state === 'done', 30_000, 'the restored device backed up');
    expect(await fresh.app.handlers['restore.dismiss'](null)).toBeNull();
    expect(restoreOf(fresh)).toBeUndefined();
    fresh.app.stop();
  }, 120_000);

  it('a worker stopped in the middle of a restore resumes it when the app starts again', async () => {
    // The first worker's relay reads stall once its job is saved: it is stopped in the history step.
    let stall = false;
    let gets = 0;
    const stalled: (() => void)[] = [];
    const restoring: { device?: Device } = {};
    const slow: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      // The job checks every item before it is saved (restore.ts verifyBackup); the history segments it reads after that stall.
      if (stall && url.endsWith('/v1/backups/get') && restoring.device !== undefined && restoreOf(restoring.device)?.step === 'running') {
        gets++;
        await new Promise<void>((r) => stalled.push(r));
      }
      return fetch(input, init);
    };
    const first = await startDevice(relay.url, 'Killed', { register: false, fetch: slow, deps: FAST });
    restoring.device = first;
    const opened = await first.app.handlers['restore.open']({ recoveryKey });
    expect(opened).toEqual({ ok: true, displayName: DISPLAY });
    await register(first, DISPLAY);
    stall = true;
    await first.app.handlers['restore.start'](null);
    await waitUntil(() => stalled.length > 0, 30_000, () => `the restore to reach the history (${gets} reads, ${JSON.stringify(restoreOf(first))})`);
    expect(restoreOf(first)).toMatchObject({ step: 'running' });
    first.app.stop();

    const again = await startDevice(relay.url, 'Killed', { register: false, dbName: first.dbName, deps: FAST });
    await waitUntil(() => restoreOf(again)?.step === 'done', 60_000, () => `resumed restore done (${JSON.stringify(restoreOf(again))})`);
    expect(again.app.snapshot.account).toMatchObject({ state: 'ready', displayName: DISPLAY });
    expect(chatOf(again.app).people!.own.personId).toBe(lost.personId);
    // The stopped worker's reads go through now: its job must write nothing more (before BackgroundApp.stop
    // stopped the restore, it went on, finished, and overwrote the backup with an empty manifest; the next
    // test restores from that backup and finds every conversation again).
    for (const release of stalled) release();
    again.app.stop();
  }, 120_000);

  it('a backup that stops reading halfway stops the restore and says so; tried again, it finishes; given up, the app opens', async () => {
    // After the manifest, the relay answers the history segments with one bit flipped, until told to stop.
    let flip = false;
    let gets = 0;
    const hostile: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const answer = await fetch(input, init);
      if (!flip || !url.endsWith('/v1/backups/get') || ++gets === 1 || !answer.ok) return answer;
      const { data } = (await answer.json()) as { data: string };
      const bytes = fromB64(data)!;
      bytes[bytes.length - 1]! ^= 1;
      return new Response(JSON.stringify({ data: toB64(bytes) }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    for (const giveUp of [false, true]) {
      flip = false;
      gets = 0;
      const device = await startDevice(relay.url, 'Damaged', { register: false, fetch: hostile, deps: FAST });
      const opened = await device.app.handlers['restore.open']({ recoveryKey });
      expect(opened).toEqual({ ok: true, displayName: DISPLAY });
      await register(device, DISPLAY);
      flip = true;
      await device.app.handlers['restore.start'](null);
      await waitUntil(() => restoreOf(device)?.step === 'stopped', 30_000, () => `the restore to stop (${JSON.stringify(restoreOf(device))})`);
      expect(restoreOf(device)).toMatchObject({ step: 'stopped', reason: 'damaged' });
      // Nothing of the damaged segment is kept: no conversation shows yet.
      expect(device.app.snapshot.conversations.filter((c) => c.status === 'active')).toEqual([]);
      if (giveUp) {
        expect(await device.app.handlers['restore.dismiss'](null)).toBeNull();
        expect(restoreOf(device)).toBeUndefined();
        expect(device.app.snapshot.account).toMatchObject({ state: 'ready', displayName: DISPLAY });
      } else {
        flip = false;
        expect(await device.app.handlers['restore.retry'](null)).toBeNull();
        await waitUntil(() => restoreOf(device)?.step === 'done', 60_000, () => `retried restore done (${JSON.stringify(restoreOf(device))})`);
        expect(device.app.snapshot.conversations.filter((c) => c.status === 'active').map((c) => c.id).sort()).toEqual([...ids].sort());
      }
      device.app.stop();
    }
  }, 180_000);
});

describe('restoring an account in 50 conversations', () => {
  let relay: RelayProcess;
  let alice: Device;
  afterAll(async () => {
    alice?.app.stop();
    await relay?.stop();
  });

  it('restores all 50 and prints the time it took (a figure, not an assertion)', async () => {
    relay = await startRelay();
    alice = await startDevice(relay.url, 'Alice', { deps: FAST });
    await waitUntil(() => alice.app.snapshot.connection === 'online', 15_000, 'online');
    const h = alice.app.handlers;
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await h['conversation.create']({ name: `Conversation ${i}` })).conversationId);
    const shown = await h['recovery.create'](null);
    const groups = shown.recoveryKey.split('-');
    await h['recovery.confirm']({ first: groups[shown.groups[0]]!, second: groups[shown.groups[1]]! });
    // Each conversation's rejoin slot is stored a moment after it is made; the backup runs again until it has them all.
    await waitUntil(async () => (await Promise.all(ids.map((id) => chatOf(alice.app).healing.ticketFor(id)))).every((t) => t !== undefined), 60_000, 'every rejoin ticket');
    const ticketsAt = Date.now();
    await waitUntil(() => { const b = alice.app.snapshot.backup; return b?.state === 'done' && b.at > ticketsAt; }, 60_000, 'a backup with every ticket');
    alice.app.stop();

    const fresh = await startDevice(relay.url, 'Restored 50', { register: false, deps: FAST });
    const t0 = performance.now();
    await restoreInto(fresh, shown.recoveryKey);
    await waitUntil(() => restoreOf(fresh)?.step === 'done', 300_000, () => `restore done (${JSON.stringify(restoreOf(fresh))})`);
    const ms = Math.round(performance.now() - t0);
    const view = restoreOf(fresh);
    const states = view?.step === 'done' ? view.conversations.map((c) => c.state) : [];
    const failed = view?.step === 'done' ? view.conversations.filter((c) => c.state === 'failed').map((c) => `${c.name}: ${c.reason}`) : [];
    console.log(`restore of an account in 50 conversations: ${ms} ms (${states.filter((s) => s === 'rejoined').length} rejoined; failed: ${failed.join(', ') || 'none'})`);
    expect(states).toHaveLength(50);
    expect(states.every((s) => s === 'rejoined')).toBe(true);
    fresh.app.stop();
  }, 600_000);
});
