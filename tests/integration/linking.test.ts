// Linking a device end to end against a real relay process (LinkService over the real rendezvous,
// CPace, secure channel, handover and the sealed add job), as far as the ports allow: the identity
// and directory parts of #18 are in-memory fakes here (tests/support/link-fakes.ts) until they are
// merged, so "added to a conversation" means the DirectoryPort's addDevices was called for it.
//   - the whole link: code → digits on both → account, roster, settings, conversations, history → job
//   - a wrong code and an expired code: a clear error on both devices, nothing changed on either
//   - a worker killed while adding the new device to 40 conversations resumes and adds it to all
//   - the time to link a device that is in 50 conversations (printed, not asserted)
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, vaultKeySlot, type Database } from '../../lib/background/db.ts';
import { AddDeviceJobs, sealedAddJobStore } from '../../lib/background/linking/add-job.ts';
import { formatLinkCode, parseLinkCode } from '../../lib/background/linking/code.ts';
import { LinkService } from '../../lib/background/linking/link-service.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import * as text from '../../lib/background/text.ts';
import { Vault } from '../../lib/background/vault.ts';
import type { LinkingView } from '../../lib/protocol/linking.ts';
import { RelayClient } from '../relay/support/client.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { FakeAccount, FakeDirectory, FakeHistory, FakeIdentity, sampleAccount, sampleHistory } from '../support/link-fakes.ts';

const CODE_TTL_S = 3;

interface Side {
  service: LinkService;
  views: (LinkingView | undefined)[];
  identity: FakeIdentity;
  directory: FakeDirectory;
  account: FakeAccount;
  history: FakeHistory;
  jobs: AddDeviceJobs;
  db: Database;
  vault: Vault;
}

describe('linking a device (real relay; identity and directory ports faked)', () => {
  let relay: RelayProcess;
  let client: RelayClient;
  let api: RelayApi;

  beforeAll(async () => {
    relay = await startRelay({ args: ['--link-code-ttl-seconds', String(CODE_TTL_S)] });
    client = new RelayClient(relay.url);
    api = new RelayApi(relay.url);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  async function side(kind: 'new' | 'existing', conversations = 3, history = sampleHistory(conversations, 20)): Promise<Side> {
    const { session } = await client.register();
    const db = await openDatabase(`link-${kind}-${Math.random()}`);
    const vault = await Vault.open(vaultKeySlot(db));
    const directory = new FakeDirectory();
    const jobs = new AddDeviceJobs(sealedAddJobStore(db, vault), directory);
    const views: (LinkingView | undefined)[] = [];
    const ports = {
      identity: new FakeIdentity(kind === 'existing'),
      directory,
      account: new FakeAccount(kind === 'existing' ? sampleAccount(conversations) : null),
      history: new FakeHistory(kind === 'existing' ? history : []),
    };
    const service = new LinkService({
      api,
      session: () => session,
      ...ports,
      jobs,
      deviceName: kind === 'new' ? 'Firefox on Linux' : 'Chrome on Linux',
      onView: (v) => views.push(v),
      timeoutMs: 10_000,
      codeWaitMs: 20_000,
    });
    return { service, views, ...ports, jobs, db, vault };
  }

  /** Nothing of the account reached the new device, and the existing one signed and started nothing. */
  async function unchanged(fresh: Side, existing: Side): Promise<void> {
    expect(fresh.identity.identity).toBeNull();
    expect(fresh.account.imported).toBeNull();
    expect(fresh.history.kept.size).toBe(0);
    expect(existing.identity.signed).toEqual([]);
    expect(existing.directory.added).toEqual([]);
    expect(await existing.jobs.progress()).toEqual([]);
    expect(await existing.db.get('secrets', 'link-add-jobs')).toBeUndefined();
  }

  it('links: same digits on both, the account and history handed over, then added to every conversation', async () => {
    const fresh = await side('new');
    const existing = await side('existing', 3);
    const { code } = await fresh.service.start();
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}$/);
    expect(fresh.service.view).toMatchObject({ role: 'new', step: 'code', code });

    const { confirmation } = await existing.service.enter(code.toLowerCase(), true);
    expect(confirmation).toMatch(/^\d{3} \d{3}$/);
    await expect.poll(() => fresh.service.view?.confirmation).toBe(confirmation);
    expect(existing.service.view).toMatchObject({ role: 'existing', step: 'confirm', confirmation });

    const confirming = existing.service.confirm(true);
    // A second answer (a double click) finds nothing waiting: the handover runs once.
    await expect(existing.service.confirm(true)).rejects.toThrow('No link is waiting for the digits.');
    const device = await confirming;
    const account = await fresh.service.finished();
    expect(device?.name).toBe('Firefox on Linux');
    expect(account).toEqual(sampleAccount(3));
    expect(fresh.identity.sameIdentity(existing.identity)).toBe(true);
    expect(fresh.history.kept.size).toBe(60);
    expect(fresh.service.view).toEqual({ role: 'new', step: 'done' });
    expect(existing.service.view).toEqual({ role: 'existing', step: 'done' });
    // Progress on both devices while the history went over.
    for (const s of [fresh, existing]) expect(s.views.some((v) => v?.progress?.text === text.copyingHistory(60, 60))).toBe(true);

    await expect.poll(() => existing.directory.added.length).toBe(3);
    expect(existing.directory.added.map((a) => a.conversationId)).toEqual(['conv0', 'conv1', 'conv2']);
    expect(existing.directory.added[0]!.devices).toEqual([fresh.directory.address]);
    await expect.poll(() => existing.service.adding()).toEqual([]);
  }, 30_000);

  it('a wrong code: a clear error on both devices, and nothing changed on either', async () => {
    const fresh = await side('new');
    const existing = await side('existing');
    const { code } = await fresh.service.start();
    const parsed = parseLinkCode(code);
    parsed.secret[4] = parsed.secret[4]! ^ 0x10;
    await expect(existing.service.enter(formatLinkCode(parsed), true)).rejects.toThrow(text.LINK_WRONG_CODE);
    await expect(fresh.service.finished()).rejects.toMatchObject({ cause: { code: 'wrong-code' } });
    expect(fresh.service.view).toEqual({ role: 'new', step: 'failed', error: text.LINK_WRONG_CODE });
    expect(existing.service.view).toEqual({ role: 'existing', step: 'failed', error: text.LINK_WRONG_CODE });
    await unchanged(fresh, existing);
    // The code was spent: entering the right one now finds no slot.
    await expect(existing.service.enter(code, true)).rejects.toThrow(text.LINK_CODE_EXPIRED);
    await unchanged(fresh, existing);
  }, 30_000);

  it('an expired code: a clear error on both devices, and nothing changed on either', async () => {
    const fresh = await side('new');
    const existing = await side('existing');
    const { code } = await fresh.service.start();
    await new Promise((r) => setTimeout(r, CODE_TTL_S * 1000 + 300));
    await expect(existing.service.enter(code, true)).rejects.toThrow(text.LINK_CODE_EXPIRED);
    expect(existing.service.view).toEqual({ role: 'existing', step: 'failed', error: text.LINK_CODE_EXPIRED });
    await expect(fresh.service.finished()).rejects.toMatchObject({ cause: { code: 'expired' } });
    expect(fresh.service.view).toEqual({ role: 'new', step: 'failed', error: text.LINK_CODE_EXPIRED });
    await unchanged(fresh, existing);
    // A typo is caught before the relay: no slot is spent.
    await expect(existing.service.enter('ABCD-EFGH-JKMNP', true)).rejects.toThrow(text.LINK_CODE_BAD);
  }, 30_000);

  it('a worker killed while adding the new device to 40 conversations resumes and adds it to all', async () => {
    const fresh = await side('new');
    const existing = await side('existing', 40, []);
    let calls = 0;
    // The 17th Add never finishes: the worker is killed while it waits.
    existing.directory.beforeAdd = () => (++calls === 17 ? new Promise<void>(() => {}) : Promise.resolve());
    const { code } = await fresh.service.start();
    await existing.service.enter(code, false);
    await existing.service.confirm(true);
    await fresh.service.finished();
    await expect.poll(() => existing.directory.added.length).toBe(16);
    const [before] = await existing.service.adding();
    expect(before).toEqual({ deviceName: 'Firefox on Linux', done: 16, total: 40, failed: 0, text: text.addingDevice('Firefox on Linux', 16, 40) });
    expect(before!.text).toBe('Adding Firefox on Linux to 16 of 40 conversations…');

    // The restarted worker: the same database, a new vault handle, a new runner and directory.
    const vault = await Vault.open(vaultKeySlot(existing.db));
    const directory = new FakeDirectory();
    const restarted = new AddDeviceJobs(sealedAddJobStore(existing.db, vault), directory);
    await restarted.resume();
    const all = [...existing.directory.added, ...directory.added].map((a) => a.conversationId);
    expect(new Set(all)).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `conv${i}`)));
    expect(all).toHaveLength(40);
    expect(await restarted.progress()).toEqual([]);
  }, 30_000);

  it('measures the time to link a device that is in 50 conversations (with 50 × 40 messages of history)', async () => {
    const fresh = await side('new');
    const existing = await side('existing', 50, sampleHistory(50, 40));
    const t0 = performance.now();
    const { code } = await fresh.service.start();
    await existing.service.enter(code, true);
    await existing.service.confirm(true);
    await fresh.service.finished();
    const handedOver = performance.now();
    await expect.poll(() => existing.directory.added.length, { timeout: 20_000 }).toBe(50);
    const added = performance.now();
    console.log(
      `linking a device in 50 conversations: handover with 2000 messages of history ${(handedOver - t0).toFixed(0)} ms, ` +
        `then 50 addDevices calls ${(added - handedOver).toFixed(0)} ms (faked directory: the real Add+Welcome cost is not in this figure)`,
    );
    expect(fresh.history.kept.size).toBe(2000);
  }, 60_000);
});
