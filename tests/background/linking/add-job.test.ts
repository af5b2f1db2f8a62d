// The job that adds a linked device to every conversation (add-job.ts): sealed in the `secrets`
// store, advanced one conversation at a time with progress, stopped by offline and resumed later,
// resumed by a fresh runner after the worker was killed mid-way, a conflict retried once, a refusal
// recorded and skipped; nothing readable in the store.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDatabase, vaultKeySlot } from '../../../lib/background/db.ts';
import { AddDeviceJobs, sealedAddJobStore, type AddJobProgress } from '../../../lib/background/linking/add-job.ts';
import { RelayApiError } from '../../../lib/background/relay-api.ts';
import * as text from '../../../lib/background/text.ts';
import { ChannelError, ErrorCode } from '../../../lib/protocol/channel.ts';
import { Vault } from '../../../lib/background/vault.ts';
import { FakeDirectory } from '../../support/link-fakes.ts';

const DEVICE = { accountId: 'a'.repeat(22), welcomeMailboxId: 'w'.repeat(22) };
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `conv${i}`);

async function setup() {
  const db = await openDatabase(`addjob-${Math.random()}`);
  const vault = await Vault.open(vaultKeySlot(db));
  return { db, vault, store: sealedAddJobStore(db, vault) };
}

describe('adding a linked device everywhere', () => {
  it('adds it to every conversation, reports progress, and leaves nothing behind', async () => {
    const { db, store } = await setup();
    const dir = new FakeDirectory();
    const seen: AddJobProgress[] = [];
    await new AddDeviceJobs(store, dir, (p) => seen.push(p)).start(DEVICE, 'Firefox on Linux', ids(12));
    expect(dir.added.map((a) => a.conversationId)).toEqual(ids(12));
    expect(dir.added.every((a) => a.devices[0]!.accountId === DEVICE.accountId)).toBe(true);
    expect(seen[0]).toEqual({ deviceName: 'Firefox on Linux', done: 0, total: 12, failed: 0, finished: false });
    expect(seen.at(-1)).toEqual({ deviceName: 'Firefox on Linux', done: 12, total: 12, failed: 0, finished: true });
    expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await db.get('secrets', 'link-add-jobs')).toBeUndefined();
  });

  it('a worker killed in the middle: a new runner resumes from the sealed job and adds it to all', async () => {
    const { db, vault, store } = await setup();
    const dir = new FakeDirectory();
    let calls = 0;
    // The 17th add never returns: the worker is killed while it waits.
    dir.beforeAdd = () => (++calls === 17 ? new Promise<void>(() => {}) : Promise.resolve());
    void new AddDeviceJobs(store, dir).start(DEVICE, 'Firefox on Linux', ids(40));
    // Until the 16th add is kept in the sealed job (a fixed pause raced with a busy machine).
    for (let waited = 0; (await store.load())[0]?.added.length !== 16; waited += 10) {
      if (waited > 10_000) throw new Error('the 16th add was never kept');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(dir.added).toHaveLength(16);
    const sealed = await db.get('secrets', 'link-add-jobs');
    expect(JSON.stringify(sealed)).not.toContain('conv');

    // A new worker: new runner, the same database.
    const dir2 = new FakeDirectory();
    const seen: AddJobProgress[] = [];
    const fresh = new AddDeviceJobs(sealedAddJobStore(db, vault), dir2, (p) => seen.push(p));
    expect(await fresh.progress()).toEqual([{ deviceName: 'Firefox on Linux', done: 16, total: 40, failed: 0, finished: false }]);
    await fresh.resume();
    expect([...dir.added, ...dir2.added].map((a) => a.conversationId).sort()).toEqual(ids(40).sort());
    expect(seen.at(-1)).toMatchObject({ done: 40, total: 40, finished: true });
  });

  it('offline stops the job where it is; resume carries on', async () => {
    const { store } = await setup();
    const dir = new FakeDirectory();
    let offline = true;
    dir.beforeAdd = async (id) => {
      if (id === 'conv3' && offline) throw new RelayApiError(0, 'unreachable', 'offline');
    };
    const jobs = new AddDeviceJobs(store, dir);
    await jobs.start(DEVICE, 'Chrome on Windows', ids(6));
    expect(dir.added).toHaveLength(3);
    expect(await jobs.progress()).toEqual([{ deviceName: 'Chrome on Windows', done: 3, total: 6, failed: 0, finished: false }]);
    offline = false;
    await jobs.resume();
    expect(dir.added.map((a) => a.conversationId)).toEqual(ids(6));
  });

  it('a change of ours still in flight in one conversation is waited out, not left for a reconnect that never comes', async () => {
    const { store } = await setup();
    const dir = new FakeDirectory();
    let busy = 3;
    dir.beforeAdd = async (id) => {
      if (id === 'conv1' && busy-- > 0) throw new ChannelError(ErrorCode.Unavailable, text.CHANGE_IN_FLIGHT);
    };
    const jobs = new AddDeviceJobs(store, dir, () => {}, 5);
    await jobs.start(DEVICE, 'Firefox on Linux', ids(3));
    expect(dir.added.map((a) => a.conversationId)).toEqual(ids(3));
    expect(await jobs.progress()).toEqual([]);
  });

  it("the relay's per-minute limit (token issuance) is waited out in place, not left for a reconnect that never comes", async () => {
    const { store } = await setup();
    const dir = new FakeDirectory();
    let limited = 4;
    dir.beforeAdd = async (id) => {
      // As DeviceAdds reports it: an Unavailable whose cause is the relay's rate_limited (epoch-sync.ts relayProblem).
      if (id === 'conv2' && limited-- > 0) throw new ChannelError(ErrorCode.Unavailable, 'The relay refused', { cause: new RelayApiError(429, 'rate_limited', 'too many issuance requests') });
    };
    const jobs = new AddDeviceJobs(store, dir, () => {}, 1, 5);
    await jobs.start(DEVICE, 'Firefox on Linux', ids(4));
    expect(dir.added.map((a) => a.conversationId)).toEqual(ids(4));
    expect(limited).toBe(-1);
    expect(await jobs.progress()).toEqual([]);
  });

  it('a change in flight that does not settle stops the job like offline (resumed later), nothing marked failed', async () => {
    const { store } = await setup();
    const dir = new FakeDirectory();
    let calls = 0;
    dir.beforeAdd = async (id) => {
      if (id === 'conv1') {
        calls++;
        throw new ChannelError(ErrorCode.Unavailable, text.CHANGE_IN_FLIGHT);
      }
    };
    const jobs = new AddDeviceJobs(store, dir, () => {}, 1);
    await jobs.start(DEVICE, 'x', ids(3));
    expect(calls).toBe(30);
    expect(await jobs.progress()).toEqual([{ deviceName: 'x', done: 1, total: 3, failed: 0, finished: false }]);
  });

  it('retries a conflict once; records a refusal and goes on', async () => {
    const { store } = await setup();
    const dir = new FakeDirectory();
    let conflicts = 0;
    dir.beforeAdd = async (id) => {
      if (id === 'conv1' && conflicts++ === 0) throw new RelayApiError(409, 'stale_capability', 'stale');
      if (id === 'conv2') throw new RelayApiError(404, 'not_found', 'gone');
    };
    const seen: AddJobProgress[] = [];
    await new AddDeviceJobs(store, dir, (p) => seen.push(p)).start(DEVICE, 'x', ids(4));
    expect(dir.added.map((a) => a.conversationId)).toEqual(['conv0', 'conv1', 'conv3']);
    expect(seen.at(-1)).toEqual({ deviceName: 'x', done: 3, total: 4, failed: 1, finished: true });
  });

  it('linking the same device again adds only what it is not in yet', async () => {
    const { store } = await setup();
    const dir = new FakeDirectory();
    dir.beforeAdd = async (id) => {
      if (id === 'conv2') throw new RelayApiError(0, 'unreachable', 'offline');
    };
    const jobs = new AddDeviceJobs(store, dir);
    await jobs.start(DEVICE, 'x', ids(4));
    dir.beforeAdd = async () => {};
    await jobs.start(DEVICE, 'x', [...ids(4), 'conv9']);
    expect(dir.added.map((a) => a.conversationId)).toEqual(['conv0', 'conv1', 'conv2', 'conv3', 'conv9']);
  });
});
