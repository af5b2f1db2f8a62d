// Linking through the real BackgroundApp's channel (link.start / link.enter / link.confirm) against
// a real relay: the view state follows the link on both devices, the new device takes over the
// display name and settings of the existing one, and the existing device adds it to its real
// conversations. The identity and directory ports are fakes (tests/support/link-fakes.ts) until
// those parts of #18 are merged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultKeySlot } from '../../lib/background/db.ts';
import { takeLinkedHistory } from '../../lib/background/linking/history-port.ts';
import * as text from '../../lib/background/text.ts';
import { Vault } from '../../lib/background/vault.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { FakeDirectory, FakeIdentity } from '../support/link-fakes.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

describe('linking through the background app', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  async function pair(): Promise<{ alice: Device; fresh: Device; dirAlice: FakeDirectory; idFresh: FakeIdentity; idAlice: FakeIdentity }> {
    const idAlice = new FakeIdentity(true);
    const dirAlice = new FakeDirectory();
    const idFresh = new FakeIdentity(false);
    const dirFresh = new FakeDirectory({ accountId: 'F'.repeat(22), welcomeMailboxId: 'W'.repeat(22) });
    const alice = await startDevice(relay.url, 'Alice', { linkPorts: () => ({ identity: idAlice, directory: dirAlice }) });
    const fresh = await startDevice(relay.url, 'New device', { linkPorts: () => ({ identity: idFresh, directory: dirFresh }) });
    return { alice, fresh, dirAlice, idFresh, idAlice };
  }

  it('links: digits on both, display name and settings taken over, added to every conversation', async () => {
    const { alice, fresh, dirAlice, idFresh, idAlice } = await pair();
    const ids: string[] = [];
    for (const name of ['Family', 'Work', 'Book club']) ids.push((await alice.app.handlers['conversation.create']({ name })).conversationId);
    await alice.app.handlers['settings.setReadReceipts']({ enabled: false });
    await alice.app.handlers['settings.setNotificationContent']({ content: 'none' });

    const { code } = await fresh.app.handlers['link.start'](null);
    expect(fresh.app.snapshot.linking).toMatchObject({ role: 'new', step: 'code', code });
    const { confirmation } = await alice.app.handlers['link.enter']({ code, sendHistory: false });
    expect(alice.app.snapshot.linking).toEqual({ role: 'existing', step: 'confirm', confirmation });
    await waitUntil(() => fresh.app.snapshot.linking?.confirmation === confirmation, 10_000, 'digits on the new device');

    await alice.app.handlers['link.confirm']({ match: true });
    await waitUntil(() => fresh.app.snapshot.linking?.step === 'done', 10_000, 'the new device done');
    expect(alice.app.snapshot.linking).toEqual({ role: 'existing', step: 'done' });
    expect(fresh.app.snapshot.account).toMatchObject({ state: 'ready', displayName: 'Alice' });
    expect(fresh.app.snapshot.settings).toMatchObject({ readReceipts: false, notificationContent: 'none' });
    expect(idFresh.sameIdentity(idAlice)).toBe(true);
    // The new device counts the conversations it has been added to (none yet: the faked directory sends no Welcome).
    await waitUntil(() => fresh.app.snapshot.addingDevices?.[0]?.text === 'Adding this device to 0 of 3 conversations…', 5_000, 'progress on the new device');
    expect(idAlice.signed.map((d) => d.address)).toEqual([{ accountId: 'F'.repeat(22), welcomeMailboxId: 'W'.repeat(22) }]);

    await waitUntil(() => dirAlice.added.length === 3, 10_000, 'added to the 3 conversations');
    expect(new Set(dirAlice.added.map((a) => a.conversationId))).toEqual(new Set(ids));
    await waitUntil(() => (alice.app.snapshot.addingDevices ?? []).length === 0, 10_000, 'the job finished');
    // Close clears the dialog's state.
    await fresh.app.handlers['link.cancel'](null);
    expect(fresh.app.snapshot.linking).toBeUndefined();
  }, 60_000);

  it('with consent, hands the stored history over; the new device keeps it sealed until it joins', async () => {
    const { alice, fresh } = await pair();
    const family = (await alice.app.handlers['conversation.create']({ name: 'Family' })).conversationId;
    const work = (await alice.app.handlers['conversation.create']({ name: 'Work' })).conversationId;
    for (const t of ['one', 'two', 'three']) await alice.app.handlers['message.send']({ conversationId: family, text: t });
    await alice.app.handlers['message.send']({ conversationId: work, text: 'memo' });
    await waitUntil(
      async () => (await alice.app.handlers['messages.page']({ conversationId: family, beforeSeq: null, limit: 50 })).messages.every((m) => m.status !== 'sending'),
      15_000,
      'messages sent',
    );
    const { code } = await fresh.app.handlers['link.start'](null);
    await alice.app.handlers['link.enter']({ code, sendHistory: true });
    await alice.app.handlers['link.confirm']({ match: true });
    await waitUntil(() => fresh.app.snapshot.linking?.step === 'done', 10_000, 'the new device done');
    const vault = await Vault.open(vaultKeySlot(fresh.db));
    const kept = await takeLinkedHistory(fresh.db, vault, family);
    expect(kept.filter((r) => r.kind === 'text').map((r) => r.text)).toEqual(['one', 'two', 'three']);
    expect(kept.every((r) => r.conversationId === family && r.sender.self === (r.kind === 'text'))).toBe(true);
    expect((await takeLinkedHistory(fresh.db, vault, work)).filter((r) => r.kind === 'text').map((r) => r.text)).toEqual(['memo']);
    // Taken once: gone from the stash.
    expect(await takeLinkedHistory(fresh.db, vault, family)).toEqual([]);
    expect(JSON.stringify(await fresh.db.getAll('secrets'))).not.toContain('three');
  }, 60_000);

  it('the worker is killed while adding the new device to 40 conversations: the restarted app resumes and adds it to all', async () => {
    const { alice, fresh, dirAlice } = await pair();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await alice.app.handlers['conversation.create']({ name: `C${i}` })).conversationId);
    let calls = 0;
    // The 17th Add never finishes: the worker is stopped while it waits.
    dirAlice.beforeAdd = () => (++calls === 17 ? new Promise<void>(() => {}) : Promise.resolve());
    const { code } = await fresh.app.handlers['link.start'](null);
    await alice.app.handlers['link.enter']({ code, sendHistory: false });
    await alice.app.handlers['link.confirm']({ match: true });
    await waitUntil(() => dirAlice.added.length === 16, 10_000, '16 added');
    // The 16th add is kept (and then shown) a moment after the directory is done with it.
    await waitUntil(() => alice.app.snapshot.addingDevices?.[0]?.done === 16, 10_000, 'the 16th add kept and shown');
    expect(alice.app.snapshot.addingDevices).toEqual([
      { deviceName: expect.any(String) as string, done: 16, total: 40, failed: 0, text: expect.stringMatching(/^Adding .+ to 16 of 40 conversations…$/) as string },
    ]);

    // A new worker on the same database: the job is read back and finished at start.
    const dirRestarted = new FakeDirectory();
    const restarted = await startDevice(relay.url, 'Alice', {
      dbName: alice.dbName,
      register: false,
      linkPorts: () => ({ identity: new FakeIdentity(true), directory: dirRestarted }),
    });
    await waitUntil(() => dirRestarted.added.length === 24, 15_000, 'the other 24 added');
    const all = [...dirAlice.added, ...dirRestarted.added].map((a) => a.conversationId);
    expect(all).toHaveLength(40);
    expect(new Set(all)).toEqual(new Set(ids));
    await waitUntil(() => (restarted.app.snapshot.addingDevices ?? []).length === 0, 10_000, 'progress cleared');
  }, 120_000);

  it('digits that do not match: nothing shared, the new device told', async () => {
    const { alice, fresh, dirAlice, idFresh, idAlice } = await pair();
    await alice.app.handlers['conversation.create']({ name: 'Family' });
    const { code } = await fresh.app.handlers['link.start'](null);
    await alice.app.handlers['link.enter']({ code, sendHistory: true });
    await alice.app.handlers['link.confirm']({ match: false });
    expect(alice.app.snapshot.linking).toEqual({ role: 'existing', step: 'failed', error: text.LINK_NOT_CONFIRMED });
    await waitUntil(() => fresh.app.snapshot.linking?.step === 'failed', 15_000, 'the new device told');
    expect(fresh.app.snapshot.linking?.error).toBe(text.LINK_ABORTED);
    expect(fresh.app.snapshot.account).toMatchObject({ displayName: 'New device' });
    expect(idFresh.identity).toBeNull();
    expect(idAlice.signed).toEqual([]);
    expect(dirAlice.added).toEqual([]);
  }, 60_000);

  it('a code typed wrong is refused before the relay, and a second link waits for the first', async () => {
    const { alice, fresh } = await pair();
    await expect(alice.app.handlers['link.enter']({ code: 'not a code', sendHistory: false })).rejects.toThrow(text.LINK_CODE_BAD);
    await fresh.app.handlers['link.start'](null);
    await expect(fresh.app.handlers['link.start'](null)).rejects.toThrow(/already/);
  }, 60_000);
});
