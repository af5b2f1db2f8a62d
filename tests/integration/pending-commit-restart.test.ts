/**
 * A worker stopped while one of its Commits is pending (stored, not yet
 * confirmed by the relay's order), over a real relay. After the restart the
 * Commit must settle whatever happened to the first post:
 *   - it never reached the relay: posted again, it goes in and comes back;
 *   - it reached the relay but the answer was lost: it comes back from the
 *     queue and is adopted as ours (once: posting it again changes nothing).
 * Either way the member is removed, the conversation takes the next change,
 * and the stopped worker writes and acknowledges nothing after its stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppCore } from '../../lib/background/app/core.ts';
import type { DeviceAddress } from '../../lib/background/device-address.ts';
import { BATCH } from '../../lib/background/key-package-supply.ts';
import { RelayApi } from '../../lib/background/relay-api.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

/** These tests share two cores with other work: each step is a relay round trip or a Commit. */
const SLOW = 2;

const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;
const pendingOf = (d: Device, id: string): boolean => (coreOf(d).chat as unknown as { c: { pending: Map<string, unknown> } }).c.pending.has(id);
const isCommitPost = (input: unknown, init?: RequestInit): boolean =>
  String(input).endsWith('/v1/queues/send') && typeof init?.body === 'string' && init.body.includes('"rotateTo"');

describe('a Commit pending when the worker stops, over a real relay', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  /** How Alice's next Commit post goes: normally, never reaching the relay, or reaching it with the answer lost. */
  let mode: 'normal' | 'never-posted' | 'answer-lost' = 'normal';
  let held = 0;
  /** 'answer-lost': the post is held until the worker is stopped, then reaches the relay; its answer never comes back. */
  let release: () => void = () => {};
  let stored: Promise<unknown> = Promise.resolve();
  const aliceFetch: typeof fetch = async (input, init) => {
    if (mode !== 'normal' && isCommitPost(input, init)) {
      held++;
      if (mode === 'never-posted') return new Promise<Response>(() => {});
      const go = new Promise<void>((r) => (release = r));
      stored = go.then(() => fetch(input, init));
      await stored;
      return new Promise<Response>(() => {});
    }
    return fetch(input, init);
  };

  beforeAll(async () => {
    relay = await startRelay();
    api = new RelayApi(relay.url);
  }, 60_000 * SLOW);

  afterAll(async () => {
    await relay?.stop();
  });

  /** Alice and Bob in one conversation made by Alice (only Alice commits there). */
  async function pair(): Promise<{ alice: Device; bob: Device; id: string }> {
    const [alice, bob] = await Promise.all([startDevice(relay.url, 'Alice', { fetch: aliceFetch }), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => [alice, bob].every((d) => d.app.snapshot.connection === 'online'), 15_000 * SLOW, 'both online');
    const bobAddr: DeviceAddress = await bob.app.handlers['device.address']({});
    const session = coreOf(bob).account!.session.token;
    await waitUntil(async () => (await api.countKeyPackages(session)).oneTime === BATCH, 15_000 * SLOW, "Bob's KeyPackages");
    const { conversationId: id } = await alice.app.handlers['conversation.create']({ name: 'Quiet room' });
    await alice.app.handlers['conversation.addDevices']({ conversationId: id, devices: [bobAddr] });
    await waitUntil(() => bob.app.snapshot.conversations.some((c) => c.id === id && c.status === 'active'), 20_000 * SLOW, 'Bob joined');
    await waitUntil(
      async () => (await alice.app.handlers['conversation.get']({ conversationId: id })).members.some((m) => m.displayName === 'Bob'),
      20_000 * SLOW,
      "Bob's name at Alice",
    );
    return { alice, bob, id };
  }

  async function removeBobAndRestart(d: { alice: Device; bob: Device; id: string }, how: 'never-posted' | 'answer-lost'): Promise<Device> {
    const { alice, id } = d;
    const bobId = (await alice.app.handlers['conversation.get']({ conversationId: id })).members.find((m) => m.displayName === 'Bob')!.memberId;
    mode = how;
    held = 0;
    void alice.app.handlers['conversation.removeMember']({ conversationId: id, memberId: bobId }).catch(() => undefined);
    await waitUntil(() => held === 1 && pendingOf(alice, id), 15_000 * SLOW, 'the Remove stored as pending and being posted');
    // Its answer would settle it; the worker stops before that.
    alice.app.stop();
    mode = 'normal';
    if (how === 'answer-lost') {
      release();
      expect((await stored) as Response).toMatchObject({ ok: true });
    }
    return startDevice(relay.url, 'Alice', { dbName: alice.dbName, register: false, fetch: aliceFetch });
  }

  it('never reached the relay: after the restart it is posted again, Bob is removed, the next change goes through', async () => {
    const d = await pair();
    const alice = await removeBobAndRestart(d, 'never-posted');
    try {
      expect(pendingOf(alice, d.id)).toBe(true);
      await waitUntil(() => !d.bob.app.snapshot.conversations.some((c) => c.id === d.id && c.status === 'active'), 30_000 * SLOW, 'Bob removed');
      await waitUntil(() => !pendingOf(alice, d.id), 15_000 * SLOW, 'the pending Commit adopted');
      const detail = await alice.app.handlers['conversation.get']({ conversationId: d.id });
      expect(detail.members.map((m) => m.displayName)).not.toContain('Bob');
      // Nothing waits any more: the next Commit is made and confirmed.
      await alice.app.handlers['conversation.rename']({ conversationId: d.id, name: 'Alone' });
      await alice.app.handlers['message.send']({ conversationId: d.id, text: 'still here' });
    } finally {
      alice.app.stop();
      d.bob.app.stop();
    }
  }, 120_000 * SLOW);

  it('reached the relay, answer lost: after the restart it comes back from the queue and is ours, once', async () => {
    const d = await pair();
    const alice = await removeBobAndRestart(d, 'answer-lost');
    try {
      await waitUntil(() => !d.bob.app.snapshot.conversations.some((c) => c.id === d.id && c.status === 'active'), 30_000 * SLOW, 'Bob removed');
      await waitUntil(() => !pendingOf(alice, d.id), 15_000 * SLOW, 'the pending Commit adopted');
      const before = (await alice.app.handlers['conversation.get']({ conversationId: d.id })).members.length;
      expect(before).toBe(1);
      await alice.app.handlers['message.send']({ conversationId: d.id, text: 'after the restart' });
      await alice.app.handlers['conversation.rename']({ conversationId: d.id, name: 'Alone' });
    } finally {
      alice.app.stop();
      d.bob.app.stop();
    }
  }, 120_000 * SLOW);
});
