/**
 * After a handover, the existing device adds the new one to every
 * conversation: one `addDevices` call (directory part: an Add Commit and a
 * Welcome) per conversation. That can take minutes and the browser may stop
 * the worker at any point, so the work is a job kept sealed in the `secrets`
 * store and advanced one conversation at a time:
 *
 *   save job (all pending) → add conv 1 → save (1 done) → add conv 2 → save …
 *
 * A worker killed between an add and its save repeats that one add on resume;
 * the directory part's addDevices then sees the device is already a member
 * and succeeds without a second Add (documented on DirectoryPort; how:
 * device-add-plan.ts, which also replaces a leaf whose Welcome was lost).
 *
 * Per conversation: another change of ours still being confirmed there is
 * waited out in place (it settles in moments, and nothing else would wake
 * the job while the connection stays up), and so is a relay's per-minute
 * limit (rate_limited); offline (or the relay busy) stops the job where it is, to resume later; a conflict (someone else's Commit came first) is retried
 * once at once; anything else (the roles do not let us invite, the
 * conversation is gone, a bug) marks that conversation failed with the
 * reason and goes on with the next.
 */
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import { WelcomeNotDelivered } from '../directory-errors.ts';
import { classify, reportIfBug, type FailureKind } from '../failure.ts';
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';
import * as text from '../text.ts';
import type { DirectoryPort, LinkDeviceAddress } from './ports.ts';

export interface AddJob {
  v: 1;
  /** The new device: where to add it, and what to call it while doing so. */
  device: LinkDeviceAddress;
  deviceName: string;
  pending: string[];
  added: string[];
  failed: { conversationId: string; reason: string }[];
}

export interface AddJobProgress {
  deviceName: string;
  done: number;
  total: number;
  failed: number;
  /** True once nothing is pending any more. */
  finished: boolean;
}

export interface AddJobStore {
  load(): Promise<AddJob[]>;
  save(jobs: AddJob[]): Promise<void>;
}

const STORE = 'secrets';
const KEY = 'link-add-jobs';

/** The jobs sealed under one key in `secrets` (one record: a job list is small). */
export function sealedAddJobStore(db: Database, vault: Vault): AddJobStore {
  return {
    async load() {
      const sealed = await db.get(STORE, KEY);
      if (sealed === undefined) return [];
      const rec = await vault.openJson<{ v: 1; jobs: AddJob[] }>(STORE, KEY, sealed);
      return rec.v === 1 ? rec.jobs : [];
    },
    async save(jobs) {
      await vault.writing(async () => {
        if (jobs.length === 0) {
          await db.delete(STORE, KEY);
          return;
        }
        const sealed = await vault.sealJson(STORE, KEY, { v: 1, jobs });
        await db.put(STORE, sealed, KEY);
      });
    },
  };
}

export function progressOf(job: AddJob): AddJobProgress {
  const total = job.pending.length + job.added.length + job.failed.length;
  return { deviceName: job.deviceName, done: job.added.length, total, failed: job.failed.length, finished: job.pending.length === 0 };
}

/**
 * How an add failed. The directory part answers with ChannelErrors: one that
 * says "unavailable" (offline, a change of ours in flight) is worth trying
 * again later; its cause, when there is one, says more.
 */
function failureKind(err: unknown): FailureKind {
  if (err instanceof ChannelError) {
    if (err.cause !== undefined) {
      const inner = classify(err.cause).kind;
      if (inner === 'offline' || inner === 'conflict') return inner;
    }
    return err.code === ErrorCode.Unavailable ? 'offline' : 'refused';
  }
  return classify(err).kind;
}

/** Waiting out a change of ours in flight in one conversation: a try every BUSY_WAIT_MS, at most BUSY_TRIES, then stop like offline. */
const BUSY_WAIT_MS = 1000;
const BUSY_TRIES = 30;

/**
 * The relay's per-minute limits (token issuance, KeyPackage claims) said "not now": waited out in place,
 * a try every RATE_WAIT_MS, at most RATE_TRIES, as a stop would wait for a reconnect an online worker never has.
 */
const RATE_WAIT_MS = 5000;
const RATE_TRIES = 36;

const rateLimited = (err: unknown): boolean => classify(err instanceof ChannelError && err.cause !== undefined ? err.cause : err).relayCode === 'rate_limited';

/** Refused before anything was done because a Commit of ours there is still pending: trying again adds nothing twice. */
const changeInFlight = (err: unknown): boolean =>
  err instanceof ChannelError && err.code === ErrorCode.Unavailable && err.cause === undefined && err.message === text.CHANGE_IN_FLIGHT;

export class AddDeviceJobs {
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: AddJobStore,
    private readonly directory: DirectoryPort,
    private readonly onProgress: (p: AddJobProgress) => void = () => {},
    private readonly busyWaitMs = BUSY_WAIT_MS,
    private readonly rateWaitMs = RATE_WAIT_MS,
  ) {}

  /** Records a job for `device` over `conversationIds`, then runs it (and any other unfinished one). */
  async start(device: LinkDeviceAddress, deviceName: string, conversationIds: readonly string[]): Promise<void> {
    await this.exclusive(async () => {
      const jobs = await this.store.load();
      const same = jobs.find((j) => j.device.accountId === device.accountId);
      if (same !== undefined) {
        // Linked again (e.g. after a failed handover): add the conversations it is not in yet.
        for (const id of conversationIds) if (!same.pending.includes(id) && !same.added.includes(id)) same.pending.push(id);
      } else {
        jobs.push({ v: 1, device: { ...device }, deviceName, pending: [...new Set(conversationIds)], added: [], failed: [] });
      }
      await this.store.save(jobs);
    });
    await this.resume();
  }

  /** Runs every unfinished job (after a restart, when back online). Concurrent calls share one run. */
  resume(): Promise<void> {
    if (this.running === null) {
      this.running = this.exclusive(() => this.runAll()).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** What is still to do, for the view. */
  async progress(): Promise<AddJobProgress[]> {
    return (await this.store.load()).map(progressOf);
  }

  private chain: Promise<unknown> = Promise.resolve();

  /** One writer of the job list at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async runAll(): Promise<void> {
    let jobs = await this.store.load();
    for (const job of jobs) {
      this.onProgress(progressOf(job));
      while (job.pending.length > 0) {
        const id = job.pending[0]!;
        const outcome = await this.addOne(job.device, id);
        if (outcome === 'offline') return;
        job.pending.shift();
        if (outcome === 'added') job.added.push(id);
        else job.failed.push({ conversationId: id, reason: outcome.failed });
        await this.store.save(jobs);
        this.onProgress(progressOf(job));
      }
    }
    // Finished jobs are done with: drop them (their result was reported).
    jobs = jobs.filter((j) => j.pending.length > 0);
    await this.store.save(jobs);
  }

  private async addOne(device: LinkDeviceAddress, conversationId: string): Promise<'added' | 'offline' | { failed: string }> {
    for (let attempt = 0, busy = 0, limited = 0; ; attempt++) {
      try {
        await this.directory.addDevices(conversationId, [device]);
        return 'added';
      } catch (err) {
        // The Commit is in and the Welcome waits for the relay (directory part): the device is a member.
        if (err instanceof WelcomeNotDelivered) return 'added';
        // Stopping here would wait for the next reconnect, which an online worker never has: the device would stay out.
        if (changeInFlight(err) && ++busy < BUSY_TRIES) {
          attempt--;
          await new Promise((r) => setTimeout(r, this.busyWaitMs));
          continue;
        }
        if (rateLimited(err) && ++limited < RATE_TRIES) {
          attempt--;
          await new Promise((r) => setTimeout(r, this.rateWaitMs));
          continue;
        }
        const kind = failureKind(err);
        if (kind === 'offline') return 'offline';
        if (kind === 'conflict' && attempt === 0) continue;
        if (kind === 'bug') reportIfBug('adding a linked device', err);
        return { failed: err instanceof ChannelError ? err.code : (classify(err).relayCode ?? kind) };
      }
    }
  }
}
