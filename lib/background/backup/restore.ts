/**
 * Restoring an account from its backup (issue #19): "linking a device from
 * a backup instead of from a live device". A restore is a job persisted
 * after every step, like device-adds and device-removal, so a worker killed
 * in the middle resumes where it stopped:
 *
 *   open      parse the key (typos caught locally), find the backup, open
 *             the manifest and check every item it names (verifyBackup). A
 *             wrong key finds nothing, a damaged item is refused: nothing
 *             was written anywhere (the relay was only read).
 *   identity  adopt the identity, the display name and the settings
 *   history   keep each conversation's history segments (if backed up)
 *   rejoin    each conversation, one by one, with Rejoiner.rejoin; one that
 *             cannot be rejoined is marked failed with the reason
 *   done
 *
 * The job holds the recovery secret until it is done: its store must seal
 * it (the vault), as it does every other secret.
 */

import { fromB64, toB64 } from '../../bytes.ts';
import { CryptoError } from '../../crypto/errors.ts';
import { BackupContentError, decodeManifest, decodeSegment, type BackupManifest, type HistorySegment, type SegmentRef } from './backup-content.ts';
import { openItem } from './backup-seal.ts';
import type { BackupSource } from './backup-storage.ts';
import type { Persisted, Rejoiner, RestoreTargets } from './ports.ts';
import { deriveBackupKeys, parseRecoveryKey, type BackupKeys, type ItemName, type RecoverySecret } from './recovery-key.ts';
import { MANIFEST_ITEM } from './backup-writer.ts';
import { classify } from '../failure.ts';
import { RelayApiError } from '../relay-wire.ts';
import { BackupAnswerError } from '../../protocol/relay-backups.ts';

/** Why a conversation could not be rejoined ('no_material': the backup had nothing to rejoin it with). */
export type RejoinFailure = 'no_material' | 'refused' | 'offline' | 'error';

export interface RestoreConversation {
  id: string;
  name: string;
  state: 'pending' | 'rejoined' | 'failed';
  reason?: RejoinFailure;
}

export interface RestoreJob {
  v: 1;
  /** base64url recovery secret (sealed by the job store). */
  secret: string;
  phase: 'identity' | 'history' | 'rejoin' | 'done';
  /** Conversations whose history is kept already. */
  historyDone: string[];
  conversations: RestoreConversation[];
}

/** The backup could not be opened: no backup under this key (a wrong key looks the same), or it does not read. */
export class RestoreRefusedError extends Error {
  override readonly name = 'RestoreRefusedError';
  constructor(
    readonly reason: 'no_backup' | 'damaged',
    options?: { cause?: unknown },
  ) {
    super(`restore refused: ${reason}`, options);
  }
}

/** Opens the manifest of the backup under `keys`; RestoreRefusedError when there is none or it does not read. */
export async function openManifest(keys: BackupKeys, source: BackupSource): Promise<BackupManifest> {
  const manifestItem = keys.itemName(MANIFEST_ITEM);
  const items = await source.list();
  if (items === null || !items.some((i) => i.item === manifestItem)) throw new RestoreRefusedError('no_backup');
  const sealed = await source.get(manifestItem);
  if (sealed === null) throw new RestoreRefusedError('no_backup');
  try {
    return decodeManifest(await openItem(keys.key, keys.backupId, manifestItem, sealed));
  } catch (err) {
    if (err instanceof CryptoError || err instanceof BackupContentError) throw new RestoreRefusedError('damaged', { cause: err });
    throw err;
  }
}

/**
 * RESTORE-ALL-1: opens the manifest and every history segment it names, and
 * checks each (BACKUP-AEAD-1, BACKUP-SEG-1) before anything is kept: a relay
 * that swaps, replays, truncates or damages any item gets the restore refused
 * as 'damaged' at the start, not half done. Returns the manifest.
 */
export async function verifyBackup(keys: BackupKeys, source: BackupSource): Promise<BackupManifest> {
  try {
    const manifest = await openManifest(keys, source);
    for (const c of manifest.conversations) {
      for (const [index, ref] of c.segments.entries()) await readSegment(keys, source, ref, c.id, index);
    }
    return manifest;
  } catch (err) {
    // An answer that is not one (bad JSON, a wrong length, an endless body) is damage too, not our bug.
    if (err instanceof BackupAnswerError || (err instanceof RelayApiError && err.code === 'malformed')) throw new RestoreRefusedError('damaged', { cause: err });
    throw err;
  }
}

/** One history segment, opened and checked against the manifest's reference; RestoreRefusedError when it is not that. */
async function readSegment(keys: BackupKeys, source: BackupSource, ref: SegmentRef, conversationId: string, index: number): Promise<HistorySegment> {
  const sealed = await source.get(ref.item as ItemName);
  if (sealed === null) throw new RestoreRefusedError('damaged');
  try {
    return decodeSegment(await openItem(keys.key, keys.backupId, ref.item as ItemName, sealed), ref, conversationId, index);
  } catch (err) {
    if (err instanceof CryptoError || err instanceof BackupContentError) throw new RestoreRefusedError('damaged', { cause: err });
    throw err;
  }
}

/** The default sorting of a rejoin failure: the relay or the group said no, we are offline, or something else. */
export function rejoinFailure(err: unknown): RejoinFailure {
  const kind = classify(err).kind;
  if (kind === 'offline') return 'offline';
  if (kind === 'refused' || kind === 'conflict') return 'refused';
  return 'error';
}

export interface RestoreDeps {
  source: BackupSource;
  targets: RestoreTargets;
  rejoiner: Rejoiner;
  jobs: Persisted<RestoreJob>;
  /** Sorts a rejoin failure (default rejoinFailure, over failure.ts classify). */
  whyNot?: (err: unknown) => RejoinFailure;
  onProgress?: (job: RestoreJob) => void;
}

export class Restore {
  constructor(private readonly deps: RestoreDeps) {}

  /**
   * Starts a restore with a typed recovery key. Throws RecoveryKeyError (a
   * typo) or RestoreRefusedError (no backup under this key) before anything
   * is kept; otherwise the job is saved, then run.
   */
  async start(typedKey: string): Promise<RestoreJob> {
    const secret = parseRecoveryKey(typedKey);
    const manifest = await verifyBackup(deriveBackupKeys(secret), this.deps.source);
    const job: RestoreJob = {
      v: 1,
      secret: toB64(secret),
      phase: 'identity',
      historyDone: [],
      conversations: manifest.conversations.map((c) => ({ id: c.id, name: c.name, state: 'pending' })),
    };
    await this.save(job);
    return this.run(job, manifest);
  }

  /** Resumes a saved job (after a restart); undefined when there is none. */
  async resume(): Promise<RestoreJob | undefined> {
    const job = await this.deps.jobs.load();
    if (job === undefined) return undefined;
    return this.run(job);
  }

  private async save(job: RestoreJob): Promise<void> {
    await this.deps.jobs.save(job);
    this.deps.onProgress?.(structuredClone(job));
  }

  private async run(job: RestoreJob, opened?: BackupManifest): Promise<RestoreJob> {
    if (job.phase === 'done') return job;
    const secret = fromB64(job.secret);
    if (secret === null) throw new RestoreRefusedError('damaged');
    const keys = deriveBackupKeys(secret as RecoverySecret);
    const manifest = opened ?? (await openManifest(keys, this.deps.source));
    if (job.phase === 'identity') {
      await this.deps.targets.adoptIdentity(manifest.identity);
      await this.deps.targets.importAccount(manifest.displayName, manifest.settings);
      job.phase = 'history';
      await this.save(job);
    }
    if (job.phase === 'history') {
      for (const c of manifest.conversations) {
        if (job.historyDone.includes(c.id)) continue;
        for (const [index, ref] of c.segments.entries()) {
          await this.deps.targets.importHistory((await readSegment(keys, this.deps.source, ref, c.id, index)).records);
        }
        job.historyDone.push(c.id);
        await this.save(job);
      }
      job.phase = 'rejoin';
      await this.save(job);
    }
    for (const entry of job.conversations) {
      if (entry.state !== 'pending') continue;
      const material = manifest.conversations.find((c) => c.id === entry.id)?.rejoin;
      if (material === undefined || material.length === 0) {
        entry.state = 'failed';
        entry.reason = 'no_material';
      } else {
        try {
          await this.deps.rejoiner.rejoin(entry.id, material);
          await this.deps.targets.rejoined?.(entry.id, manifest.conversations.find((c) => c.id === entry.id)?.names);
          entry.state = 'rejoined';
        } catch (err) {
          const reason = (this.deps.whyNot ?? rejoinFailure)(err);
          // Offline is not an answer: the job stays pending and resumes when the relay is back.
          if (reason === 'offline') throw err;
          entry.state = 'failed';
          entry.reason = reason;
        }
      }
      await this.save(job);
    }
    job.phase = 'done';
    // The secret is not needed any more: the finished job keeps only what the view shows.
    job.secret = '';
    await this.save(job);
    return job;
  }
}
