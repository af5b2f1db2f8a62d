/**
 * "Restore my account" in the background app (issue #19). In a fresh profile:
 *
 *   restore.open   the typed key (and a backup file's text, if any) is
 *                  checked against the backup: a typo is caught locally, a
 *                  key with no backup finds nothing at the relay. Only reads:
 *                  a refusal leaves nothing at the relay nor here.
 *   account.*      the person registers a passkey, as at sign-up, under the
 *                  backup's display name (a new relay account: this is a
 *                  new device of the same person)
 *   restore.start  the Restore job (lib/background/backup/restore.ts):
 *                  identity (a roster signed by the identity key that adds
 *                  this device), display name and settings, history, then
 *                  every conversation rejoined, progress in AppState.restore
 *
 * The job is sealed in `secrets` after every step and resumed when the
 * session opens, so a worker stopped in the middle goes on where it was;
 * offline, it waits and goes on when the relay is back. A backup that stops
 * reading halfway (damaged, or changed by the relay) stops the job where it
 * is: the person tries again (restore.retry) or gives up (restore.dismiss).
 * When every conversation is back, the recovery key becomes this device's
 * and the backup goes on under it; otherwise the backup is left as it was.
 */
import { fromB64, toB64 } from '../../bytes.ts';
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import { BackupAnswerError } from '../../protocol/relay-backups.ts';
import type { RestoreRefusal, RestoreStopView, RestoreView } from '../../protocol/backup.ts';
import { saveSetting } from '../db.ts';
import { classify, reportIfBug } from '../failure.ts';
import { appRestoreTargets } from '../backup/app-ports.ts';
import { BackupFile, BackupFileError, RelayBackup, type BackupSource } from '../backup/backup-storage.ts';
import type { Rejoiner } from '../backup/ports.ts';
import { deriveBackupKeys, parseRecoveryKey, RecoveryKeyError, type RecoverySecret } from '../backup/recovery-key.ts';
import { Restore, RestoreRefusedError, verifyBackup, type RestoreJob } from '../backup/restore.ts';
import { RESTORE_JOB_ID, sealedRecord } from '../backup/sealed-state.ts';
import type { Persisted } from '../backup/ports.ts';
import type { Vault } from '../vault.ts';
import type { AppCore } from './core.ts';
import { RECOVERY_SECRET_ID } from './recovery.ts';
import { t } from '../../platform/i18n.ts';

const SOURCE_ID = 'restore-source';

/** Thrown into a job under way when the app stopped: it ends there, quietly. */
class RestoreHaltedError extends Error {
  override readonly name = 'RestoreHaltedError';
}
const enc = new TextEncoder();

/** Where the job reads the backup: the relay, or the file's text kept (sealed) until the job is done. */
interface SourceRecord {
  file?: string;
}

/** Rejoining a conversation from its backed-up material (the healing part). */
export type RejoinerFactory = (core: AppCore) => Rejoiner;

export interface RestoreHooks {
  setDisplayName(name: string): Promise<unknown>;
  /** The restore is done and the recovery key kept: back up under it now. */
  backUp(): Promise<void>;
}

export class RestoreControl {
  private accepted: { recoveryKey: string; file?: string } | undefined;
  private running: Promise<unknown> | undefined;
  /** Stopped with the app: the job still under way writes nothing more (the next instance resumes it from the store). */
  private halted = false;

  constructor(
    private readonly core: AppCore,
    private readonly rejoiner: RejoinerFactory,
    private readonly hooks: RestoreHooks,
  ) {
    // Back online: a restore that waited for the relay goes on.
    let wasOnline = core.state.connection === 'online';
    core.view.subscribe((state) => {
      const online = state.connection === 'online';
      if (online && !wasOnline && state.restore?.step === 'running') this.resume();
      wasOnline = online;
    });
  }

  private source(record: SourceRecord, secret: RecoverySecret): BackupSource {
    const keys = deriveBackupKeys(secret);
    if (record.file !== undefined) return BackupFile.read(enc.encode(record.file)).sourceFor(keys.backupId);
    const fetch = this.core.deps.fetch;
    return new RelayBackup(this.core.api.baseUrl, keys.backupId, keys.accessSecret, fetch === undefined ? {} : { fetch });
  }

  /** Checks a key (and file) against its backup; nothing is written anywhere. */
  async open(recoveryKey: string, file?: string): Promise<{ ok: true; displayName: string } | { ok: false; reason: RestoreRefusal }> {
    const core = this.core;
    if (core.account !== undefined || core.wrapped !== undefined) throw new ChannelError(ErrorCode.Forbidden, t('bg_err_already_account'));
    this.accepted = undefined;
    let secret: RecoverySecret;
    try {
      secret = parseRecoveryKey(recoveryKey);
    } catch (err) {
      if (err instanceof RecoveryKeyError) return { ok: false, reason: err.problem === 'length' ? 'length' : 'typo' };
      throw err;
    }
    try {
      const manifest = await verifyBackup(deriveBackupKeys(secret), this.source(file === undefined ? {} : { file }, secret));
      this.accepted = file === undefined ? { recoveryKey } : { recoveryKey, file };
      return { ok: true, displayName: manifest.displayName };
    } catch (err) {
      if (err instanceof RestoreRefusedError) return { ok: false, reason: err.reason };
      if (err instanceof BackupFileError) return { ok: false, reason: 'damaged' };
      throw err;
    }
  }

  /** Registered after `open`: the job is saved, then runs (its progress is published). */
  async start(): Promise<null> {
    const { vault } = this.core.unlockedAccount();
    const accepted = this.accepted;
    if (accepted === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_restore_open_first'));
    if (this.running !== undefined) return null;
    this.accepted = undefined;
    const secret = parseRecoveryKey(accepted.recoveryKey);
    const record: SourceRecord = accepted.file === undefined ? {} : { file: accepted.file };
    await sealedRecord<SourceRecord>(this.core.deps.db, vault, SOURCE_ID).save(record);
    this.run(vault, secret, (restore) =>
      restore.start(accepted.recoveryKey).catch((err: unknown) => {
        // Refused before anything was kept (an item the relay damaged after the key was accepted): it may start again.
        if (err instanceof RestoreRefusedError) this.accepted = accepted;
        throw err;
      }),
    );
    return null;
  }

  /** The session opened: a restore a stopped worker left goes on (its finished summary is shown again). */
  resume(): void {
    const vault = this.core.vault;
    if (vault === undefined || this.core.account === undefined || this.running !== undefined) return;
    void (async () => {
      const job = await this.jobs(vault).load();
      if (job === undefined) return;
      if (job.phase === 'done') return this.show(job);
      const secret = fromB64(job.secret);
      if (secret === null) return;
      this.run(vault, secret as RecoverySecret, (restore) => restore.resume());
    })().catch((err: unknown) => reportIfBug('resuming a restore', err));
  }

  /** A stopped restore: from where it stopped (a job still running is left alone). */
  async retry(): Promise<null> {
    this.core.unlockedAccount();
    if (this.core.state.restore?.step !== 'stopped' || this.running !== undefined) return null;
    // Refused before its job was kept (start checks every item first): start again; otherwise resume the job.
    if (this.accepted !== undefined) return this.start();
    this.resume();
    return null;
  }

  /** The finished summary read, or a stopped restore given up; a restore under way is not dismissed. */
  async dismiss(): Promise<null> {
    const { vault } = this.core.unlockedAccount();
    const job = await this.jobs(vault).load();
    const stopped = this.core.state.restore?.step === 'stopped' && this.running === undefined;
    if (job !== undefined && job.phase !== 'done' && !stopped) return null;
    await this.jobs(vault).clear();
    await sealedRecord<SourceRecord>(this.core.deps.db, vault, SOURCE_ID).clear();
    const { restore: _gone, ...rest } = this.core.state;
    this.core.update(rest);
    return null;
  }

  /** The app stops: a job under way stops at its next step, having written nothing more. */
  stop(): void {
    this.halted = true;
  }

  /** Waits for the restore under way (tests). */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private jobs(vault: Vault): Persisted<RestoreJob> {
    const record = sealedRecord<RestoreJob>(this.core.deps.db, vault, RESTORE_JOB_ID);
    return {
      load: () => record.load(),
      clear: () => record.clear(),
      save: async (job) => {
        if (this.halted) throw new RestoreHaltedError();
        await record.save(job);
      },
    };
  }

  private show(job: RestoreJob): void {
    this.core.update({ ...this.core.state, restore: restoreView(job) });
  }

  private run(vault: Vault, secret: RecoverySecret, go: (restore: Restore) => Promise<RestoreJob | undefined>): void {
    const core = this.core;
    const db = core.deps.db;
    const restore = async (): Promise<void> => {
      const record = (await sealedRecord<SourceRecord>(db, vault, SOURCE_ID).load()) ?? {};
      const restore = new Restore({
        source: this.source(record, secret),
        targets: appRestoreTargets({
          db,
          vault,
          own: () => {
            const own = core.needChat().people?.own;
            if (own === undefined) throw new ChannelError(ErrorCode.Unavailable, t('bg_err_no_identity'));
            return own;
          },
          setDisplayName: (name) => this.hooks.setDisplayName(name),
          settle: async (id, names) => void (await core.needChat().restored.settle(id, names)),
          setSettings: async (s) => {
            await saveSetting(db, 'notifications', s.notifications);
            await saveSetting(db, 'notificationContent', s.notificationContent);
            await saveSetting(db, 'readReceipts', s.readReceipts);
            await saveSetting(db, 'backupHistory', s.backupHistory);
            core.update({ ...core.state, settings: { ...core.state.settings, ...s } });
          },
        }),
        rejoiner: this.rejoiner(core),
        jobs: this.jobs(vault),
        onProgress: (job) => this.show(job),
      });
      const job = await go(restore);
      await sealedRecord<SourceRecord>(db, vault, SOURCE_ID).clear();
      // Every conversation is back: the key that restored the account is this device's recovery key, and the
      // backup goes on under it. Otherwise the backup stays as it was (a backup of this device would drop
      // the conversations not rejoined): the key still restores them, and Settings makes a new key.
      if (job === undefined || !job.conversations.every((c) => c.state === 'rejoined')) return;
      if (this.halted) return;
      await sealedRecord<string>(db, vault, RECOVERY_SECRET_ID).save(toB64(secret));
      await this.hooks.backUp();
    };
    this.running = restore()
      .catch((err: unknown) => this.stopped(err))
      .finally(() => (this.running = undefined));
  }

  /** The job threw: offline it waits for the relay (still "running"); otherwise it shows where it stopped. */
  private stopped(err: unknown): void {
    if (err instanceof RestoreHaltedError || classify(err).kind === 'offline') return;
    reportIfBug('restoring the account', err);
    // An item that does not open, or a relay answer that does not read: the backup, as the relay gives it, is damaged.
    const damaged = err instanceof RestoreRefusedError || err instanceof BackupAnswerError || classify(err).kind === 'hostile';
    const reason: RestoreStopView = damaged ? 'damaged' : 'error';
    const shown = this.core.state.restore;
    const conversations = shown !== undefined && 'conversations' in shown ? shown.conversations : [];
    this.core.update({ ...this.core.state, restore: { step: 'stopped', reason, conversations } });
  }
}

export function restoreView(job: RestoreJob): RestoreView {
  return {
    step: job.phase === 'done' ? 'done' : 'running',
    conversations: job.conversations.map((c) => ({
      id: c.id,
      name: c.name,
      state: c.state,
      ...(c.state === 'failed' ? { reason: c.reason === 'no_material' || c.reason === 'refused' ? c.reason : 'error' } : {}),
    })),
  };
}
