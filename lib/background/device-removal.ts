/**
 * Removing one of our own devices (docs/device-removal.md), as a job that
 * survives the worker being killed:
 *
 *   1. leaves: in every conversation, the leaves whose checked `person` proof
 *      names our identity and that device key go in one Remove Commit
 *      (the normal commit path); where our role does not allow it, the job
 *      goes on and the result says where;
 *   2. roster: a new roster without the device, signed and announced
 *      (own-identity.ts `removeFromRoster`);
 *   3. relay: its KeyPackages retired with the secret only the person's
 *      devices can derive (`retireSecretFor`), so nobody can claim them.
 *
 * The leaves go first: until the Remove Commits are out, the device still
 * reads every conversation, and a roster without it would only warn the
 * others. The job record (sealed in `secrets`) is written after each step,
 * so a restarted worker resumes where it stopped. This device never removes
 * itself.
 */
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import type { ChatService } from './chat-service.ts';
import type { Database } from './db.ts';
import { classify } from './failure.ts';
import type { OwnIdentity } from './identity/own-identity.ts';
import { rosterHas } from './identity/roster.ts';
import type { RelayApi } from './relay-api.ts';
import * as text from './text.ts';
import type { Vault } from './vault.ts';

const STORE = 'secrets';
const KEY = 'device-removal';

export interface RemovalJob {
  v: 1;
  deviceKey: string;
  name: string;
  /** The device's relay account (from its roster entry), whose KeyPackages are retired. */
  accountId?: string;
  stage: 'leaves' | 'roster' | 'relay';
  /** Conversations still to look at. */
  remaining: string[];
  /** Conversations where we removed its leaves. */
  removedFrom: string[];
  /** Conversations where we could not (our role): it stays a member there. */
  notRemovedFrom: string[];
  /** Whether the relay retired its KeyPackages (false: it never registered a retire hash, or had no address). */
  keyPackagesRetired?: boolean;
}

export interface RemovalResult {
  removedFrom: number;
  /** Names of the conversations where we may not remove it. */
  notRemovedFrom: string[];
  keyPackagesRetired: boolean;
}

export interface RemovalDeps {
  db: Database;
  vault: Vault;
  own: OwnIdentity;
  chat: ChatService;
  api: () => RelayApi;
}

export class DeviceRemoval {
  private running: Promise<RemovalResult> | undefined;
  private stopped = false;

  constructor(private readonly d: RemovalDeps) {}

  /** Start removing `deviceKey` (or go on with the job already open for it). */
  async remove(deviceKey: string): Promise<RemovalResult> {
    const { own, chat } = this.d;
    if (deviceKey === own.deviceKey) throw new ChannelError(ErrorCode.InvalidInput, text.REMOVE_THIS_DEVICE);
    const open = await this.load();
    if (open !== undefined && open.deviceKey !== deviceKey) throw new ChannelError(ErrorCode.Unavailable, text.REMOVAL_UNDER_WAY);
    if (open === undefined) {
      const device = own.roster.devices.find((d) => d.deviceKey === deviceKey);
      if (device === undefined) throw new ChannelError(ErrorCode.NotFound, text.NO_SUCH_DEVICE);
      const remaining = chat.summaries().filter((s) => s.status === 'active').map((s) => s.id);
      await this.save({
        v: 1,
        deviceKey,
        name: device.name,
        ...(device.address === undefined ? {} : { accountId: device.address.accountId }),
        stage: 'leaves',
        remaining,
        removedFrom: [],
        notRemovedFrom: [],
      });
    }
    return this.resume() as Promise<RemovalResult>;
  }

  /** Go on with an open job (after a restart); undefined when there is none. One run at a time. */
  resume(): Promise<RemovalResult | undefined> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    }) as Promise<RemovalResult>;
    return this.running;
  }

  /**
   * This worker stops (another may open the store): a step still under way here records nothing more,
   * or a refusal caused by the stop could be written down as the conversation's answer.
   */
  stop(): void {
    this.stopped = true;
  }

  /** The device being removed, while a job is open (the settings show it as in progress). */
  async pending(): Promise<string | undefined> {
    return (await this.load())?.deviceKey;
  }

  private async run(): Promise<RemovalResult | undefined> {
    const { own, chat } = this.d;
    let job = await this.load();
    if (job === undefined) return undefined;
    while (job.stage === 'leaves' && job.remaining.length > 0) {
      const id: string = job.remaining[0]!;
      const leaves = chat.leavesOfDevice(id, own.identityKey, job.deviceKey);
      const active = chat.summaries().some((c) => c.id === id && c.status === 'active');
      let outcome: 'removed' | 'refused' | 'none' = 'none';
      if (active && leaves.length > 0) {
        try {
          await chat.removeMembers(id, leaves);
          outcome = 'removed';
        } catch (err) {
          outcome = skippable(err);
        }
      }
      job = {
        ...job,
        remaining: job.remaining.slice(1),
        removedFrom: outcome === 'removed' ? [...job.removedFrom, id] : job.removedFrom,
        notRemovedFrom: outcome === 'refused' ? [...job.notRemovedFrom, id] : job.notRemovedFrom,
      };
      await this.save(job);
    }
    if (job.stage === 'leaves') await this.save((job = { ...job, stage: 'roster' }));
    if (job.stage === 'roster') {
      // A device of ours may already have signed it away (then there is nothing to sign).
      if (rosterHas(own.roster, job.deviceKey)) await own.removeFromRoster(job.deviceKey);
      await this.save((job = { ...job, stage: 'relay' }));
    }
    job = { ...job, keyPackagesRetired: await this.retire(job) };
    if (this.stopped) throw new ChannelError(ErrorCode.Unavailable, text.REMOVAL_UNDER_WAY);
    await this.d.db.delete(STORE, KEY);
    const names = new Map(chat.summaries().map((s) => [s.id, s.name]));
    return {
      removedFrom: job.removedFrom.length,
      notRemovedFrom: job.notRemovedFrom.map((id) => names.get(id) ?? id),
      keyPackagesRetired: job.keyPackagesRetired === true,
    };
  }

  /** True once the relay retired them; false when it refuses (never registered, another identity); offline throws. */
  private async retire(job: RemovalJob): Promise<boolean> {
    if (job.accountId === undefined) return false;
    try {
      await this.d.api().retireKeyPackages(job.accountId, this.d.own.retireSecretFor(job.accountId));
      return true;
    } catch (err) {
      if (classify(err).kind === 'offline') throw err;
      return false;
    }
  }

  private async load(): Promise<RemovalJob | undefined> {
    const sealed = await this.d.db.get(STORE, KEY);
    if (sealed === undefined) return undefined;
    const job = await this.d.vault.openJson<RemovalJob>(STORE, KEY, sealed);
    return job.v === 1 ? job : undefined;
  }

  private async save(job: RemovalJob): Promise<void> {
    const { db, vault } = this.d;
    if (this.stopped) throw new ChannelError(ErrorCode.Unavailable, text.REMOVAL_UNDER_WAY);
    await vault.writing(async () => {
      const sealed = await vault.sealJson(STORE, KEY, job);
      await db.put(STORE, sealed, KEY);
    });
  }
}

/**
 * A conversation where the Remove cannot be made stays as it is and the job
 * goes on: 'refused' when our role does not allow it, 'none' when the
 * conversation or the leaf is gone meanwhile. Anything else (offline, the
 * relay down) stops the job, to be resumed.
 */
function skippable(err: unknown): 'refused' | 'none' {
  if (err instanceof ChannelError && err.code === ErrorCode.Forbidden) return 'refused';
  if (err instanceof ChannelError && err.code === ErrorCode.NotFound) return 'none';
  throw err;
}
