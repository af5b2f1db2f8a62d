/**
 * Commits confirmed by the relay's order.
 *
 * Our Commit's new state is kept as "pending" (persisted) until the relay
 * delivers the Commit back to us in queue order (inbox.ts `ownCommitReturned`);
 * if another member's Commit for the same epoch comes first, everyone applies
 * theirs and ours is void. That keeps all members on one epoch history without
 * any server-side MLS logic. External joins (join.ts) wait the same way.
 *
 *   commit ──► pending (stored) ──► posted ──► delivered back ──► adopted, settled
 *                                      └──► someone else's Commit first ──► void, settled with LostRace
 *
 * A worker that stops between storing a Commit and hearing it back finds it
 * pending when it starts again, and cannot know whether the post reached the
 * relay. It posts it again (`repostRestored`), which makes sure that a Commit
 * for that epoch is in the queue, and so comes back and settles it.
 */
import { createCommit, encodeMessage, type CommitOptions, type GroupState, type MLSMessage } from '../mls/group.ts';
import { fromB64 } from '../bytes.ts';
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import type { PendingCommit } from './chat-store.ts';
import { ChangeInFlight, isStale, LostRace, relayProblem, unreachable } from './chat-errors.ts';
import { hashOf, type Conversations } from './conversations.ts';
import { membershipShrank, revokeAtRelay } from './invite-revocation.ts';
import { capabilityHash, queueCapability } from './queue-capability.ts';
import * as text from './text.ts';

/**
 * Post-compromise security needs our leaf keys to change now and then: when
 * we send and our last Commit is older than this, we also commit an update
 * (an empty Commit with a fresh path).
 */
const SELF_UPDATE_MS = 7 * 86_400_000;

/** A confirmed Commit of ours: the group's new state, and the Welcome for the members it added. */
export interface Committed {
  state: GroupState;
  welcome?: MLSMessage;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export class EpochSync {
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(private readonly c: Conversations) {}

  private get timeoutMs(): number {
    return this.c.deps.confirmTimeoutMs ?? 20_000;
  }

  /** Resolves when the Commit with this hash is settled (confirmed, or rejected with why it is void). */
  waitConfirmed(hash: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(hash);
        if (list !== undefined) this.waiters.set(hash, list.filter((w) => w.resolve !== done));
        reject(new ChannelError(ErrorCode.Unavailable, text.NOT_CONFIRMED_YET));
      }, this.timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const list = this.waiters.get(hash) ?? [];
      list.push({
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.waiters.set(hash, list);
    });
  }

  settle(hash: string, err?: Error): void {
    const list = this.waiters.get(hash) ?? [];
    this.waiters.delete(hash);
    for (const w of list) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }

  /**
   * Create a Commit, keep its state pending, post it, and wait until the relay's order confirms it.
   * Answers the Commit's new state and its Welcome (when it added members), for the caller to deliver.
   */
  async commit(id: string, options: CommitOptions): Promise<Committed> {
    const c = this.c;
    const prepared = await c.serial(async () => {
      const meta = c.activeMeta(id);
      if (c.pending.has(id)) throw new ChangeInFlight();
      const state = await c.group(id);
      const r = await createCommit(state, options);
      const payload = encodeMessage(r.commit);
      const p: PendingCommit = { hash: hashOf(payload), baseEpoch: Number(state.context.epoch), state: r.state, payload };
      await c.apply({ pending: [{ id, value: p }] });
      const queue = fromB64(meta.queue)!;
      const revoke = membershipShrank(state, r.state) ? meta.invites : [];
      // Posted with this epoch's capability; the relay swaps in the next one as it stores the Commit.
      return { payload, hash: p.hash, queue, cap: queueCapability(state), rotateTo: capabilityHash(queue, queueCapability(r.state)), revoke, r };
    });
    const confirmed = this.waitConfirmed(prepared.hash);
    // Awaited below only when the post went out; otherwise its rejection is the same problem thrown here.
    confirmed.catch(() => undefined);
    try {
      // A removal revokes the open invites before the Commit is posted (see invite-revocation.ts).
      if (prepared.revoke.length > 0) await revokeAtRelay(c.deps.api(), prepared.revoke);
    } catch (err) {
      await c.dropPending(id, prepared.hash);
      this.settle(prepared.hash, relayProblem(err, text.Activity.revokeInvites));
      throw relayProblem(err, text.Activity.revokeInvites);
    }
    try {
      await c.deps.wallet().spend((token) => c.deps.api().send(prepared.queue, prepared.cap, token, prepared.payload, prepared.rotateTo));
    } catch (err) {
      // Refused for sure: the Commit will never come back, forget it. Unreachable: it may
      // have been posted, so keep it pending (the relay's order decides when it shows up).
      // Stale: another Commit for this epoch is already in the queue; ours lost the race.
      const problem = isStale(err) ? new LostRace({ cause: err }) : relayProblem(err, text.Activity.changeGroup);
      if (!unreachable(err)) {
        await c.dropPending(id, prepared.hash);
        this.settle(prepared.hash, problem);
      }
      throw problem;
    }
    await confirmed;
    return { state: prepared.r.state, ...(prepared.r.welcome === undefined ? {} : { welcome: prepared.r.welcome }) };
  }

  /**
   * Post again the pending Commits found in the store at start (conversations.ts `restored`).
   * The relay stores it (the first post never arrived), or answers that the capability moved on:
   * a Commit for that epoch is already in the queue, ours or another member's. Either way it is
   * delivered back in queue order, and that adopts ours (chat-service.ts `adopt`) or voids it
   * (inbox.ts, LostRace). Without this, a Commit that never reached the relay would stay pending
   * for good in a conversation where nobody else commits, and every change there would wait.
   * Offline: the rest wait for the next time we are online.
   */
  async repostRestored(): Promise<void> {
    const c = this.c;
    for (const id of [...c.restored]) {
      const p = c.pending.get(id);
      const meta = c.metas.get(id);
      const state = p === undefined || meta?.status !== 'active' ? undefined : await c.group(id).catch(() => undefined);
      // Settled meanwhile, a join (join.ts gives those up), an older record without the Commit, or the group moved on: nothing to post.
      if (p === undefined || meta === undefined || state === undefined || p.payload === undefined || Number(state.context.epoch) !== p.baseEpoch) {
        c.restored.delete(id);
        continue;
      }
      const queue = fromB64(meta.queue)!;
      const rotateTo = capabilityHash(queue, queueCapability(p.state));
      try {
        await c.deps.wallet().spend((token) => c.deps.api().send(queue, queueCapability(state), token, p.payload!, rotateTo));
      } catch (err) {
        if (unreachable(err)) return;
        // Stale or unknown capability: the queue already holds a Commit for this epoch; it comes back in order.
      }
      c.restored.delete(id);
    }
  }

  /** An empty Commit with a fresh path: new leaf and path keys for us, a new epoch for all. */
  async selfUpdate(id: string): Promise<void> {
    // Post-compromise hygiene, not a request: if it fails (offline, lost a race), the next send tries again.
    await this.commit(id, { pending: 'all' }).catch(() => undefined);
  }

  /** We are sending: if our leaf keys are old (see SELF_UPDATE_MS), refresh them in the background. */
  selfUpdateIfDue(id: string): void {
    const meta = this.c.metas.get(id);
    if (meta !== undefined && !this.c.pending.has(id) && Date.now() - (meta.lastUpdate ?? 0) > SELF_UPDATE_MS) void this.selfUpdate(id);
  }

  /** Commit the proposals we have seen (§12.4 V-APP-1: before we may send). */
  async commitPending(id: string): Promise<void> {
    if (this.c.pending.has(id)) throw new ChangeInFlight(text.CHANGE_IN_FLIGHT_RETRY);
    await this.commit(id, { pending: 'all' });
  }

  /** Someone proposed (a member leaving): commit it a moment from now, whoever is first wins. */
  commitSoon(id: string): void {
    const delay = Math.floor(Math.random() * 300);
    setTimeout(() => {
      const g = this.c.groups.get(id);
      if (g === undefined || g.pendingProposals.length === 0 || this.c.pending.has(id) || !this.c.isActive(id)) return;
      // Whoever commits first wins; losing the race (or being offline) leaves the proposal to that Commit or the next send.
      this.commitPending(id).catch(() => undefined);
    }, delay);
  }
}
