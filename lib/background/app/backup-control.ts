/**
 * The encrypted backup in the background app (issue #19): once the person
 * kept a recovery key, a BackupWriter keeps the backup at the relay current.
 * It runs after a quiet moment whenever what a backup holds changed (the
 * conversation list, names and members, the display name, the settings, the
 * roster, and the messages when history is opted in), never more than one
 * run at a time; its status (last backup, size, over quota) is published as
 * `AppState.backup` for Settings → Recovery.
 *
 *   new recovery key   the whole backup is written under the new key, then
 *                      the old one is deleted (the old key finds nothing)
 *   Export backup      the same sealed items, written into a file on the
 *                      device (MemoryBackup), no relay involved
 *   account deleted    the backup is deleted with it
 *
 * What was backed up last is remembered as a digest of that state (sealed
 * in `secrets`), so a worker that wakes with nothing changed uploads nothing.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toB64 } from '../../bytes.ts';
import { ChannelError, ErrorCode, type AppState } from '../../protocol/channel.ts';
import type { BackupStatusView } from '../../protocol/backup.ts';
import { reportIfBug } from '../failure.ts';
import { ChatStore } from '../chat-store.ts';
import { appBackupInputs } from '../backup/app-ports.ts';
import { encodeBackupFile, RelayBackup } from '../backup/backup-storage.ts';
import { BackupWriter, moveBackup, type BackupLedger, type BackupStatus } from '../backup/backup-writer.ts';
import { inMemory, MemoryBackup } from '../backup/memory-backup.ts';
import type { BackupInputs, RejoinSource } from '../backup/ports.ts';
import { deriveBackupKeys, type RecoverySecret } from '../backup/recovery-key.ts';
import { BACKUP_LEDGER_ID, sealedRecord } from '../backup/sealed-state.ts';
import type { Vault } from '../vault.ts';
import type { AppCore } from './core.ts';
import { loadRecoverySecret } from './recovery.ts';
import { t } from '../../platform/i18n.ts';

const SHAPE_ID = 'backup-shape';
/** Runs in a row that may be retried because a conversation had no rejoin material yet (its slot is stored a moment after it is made). */
const MISSING_TICKET_RETRIES = 5;
const DEFAULT_DELAY_MS = 30_000;

/** Rejoin material per conversation (the healing part); none until it is wired. */
export type RejoinSourceFactory = (core: AppCore) => RejoinSource;

interface Running {
  vault: Vault;
  accountId: string;
  secret: RecoverySecret;
  writer: BackupWriter;
  sink: RelayBackup;
}

export class BackupControl {
  private running: Running | undefined;
  private opening: Promise<void> | undefined;
  private lastShape: string | undefined;
  private missingRetries = 0;

  constructor(
    private readonly core: AppCore,
    private readonly rejoin: RejoinSourceFactory,
    private readonly delayMs: number = DEFAULT_DELAY_MS,
  ) {
    core.view.subscribe((state) => this.changed(state));
    core.view.subscribeEvents((event) => {
      if (event.type === 'messages' && core.state.settings.backupHistory === true) this.running?.writer.schedule();
    });
  }

  /** The view state changed: open the writer for a new session, or schedule a run when a backed-up part changed. */
  private changed(state: AppState): void {
    const { vault, account, chat } = this.core;
    if (vault === undefined || account === undefined || chat === undefined) {
      this.close();
      return;
    }
    const r = this.running;
    if (r !== undefined && (r.vault !== vault || r.accountId !== account.accountId)) this.close();
    if (this.running === undefined) {
      // A failed open (the database closed under it, a damaged recovery secret) leaves the writer
      // closed; the next change tries again.
      this.opening ??= this.open()
        .catch((err: unknown) => reportIfBug('opening the backup writer', err))
        .finally(() => (this.opening = undefined));
      return;
    }
    const shape = this.shapeOf(state);
    if (shape !== this.lastShape) {
      this.lastShape = shape;
      this.running.writer.schedule();
    }
  }

  /** A digest of everything a backup holds but the messages (those schedule a run by their events). */
  private shapeOf(state: AppState): string {
    const s = state.settings;
    const own = this.core.chat?.people?.own;
    const parts = {
      conversations: state.conversations.filter((c) => c.status === 'active' || c.status === 'joining').map((c) => [c.id, c.name, c.memberCount]),
      name: this.core.account?.displayName,
      settings: [s.notifications, s.notificationContent, s.readReceipts, s.backupHistory === true],
      roster: own?.roster.version,
    };
    return toB64(sha256(new TextEncoder().encode(JSON.stringify(parts))));
  }

  private async open(): Promise<void> {
    const { vault, account } = this.core;
    if (vault === undefined || account === undefined) return;
    const secret = await loadRecoverySecret(this.core.deps.db, vault);
    if (secret === undefined || this.core.vault !== vault) return;
    this.running = this.build(vault, account.accountId, secret);
    // Settings shows that a backup is kept (its last run is known once one runs here).
    if (this.core.state.backup === undefined) this.core.update({ ...this.core.state, backup: { state: 'none' } });
    const shapes = sealedRecord<string>(this.core.deps.db, vault, SHAPE_ID);
    const saved = await shapes.load().catch(() => undefined);
    this.lastShape = this.shapeOf(this.core.state);
    if (saved !== this.lastShape) this.running.writer.schedule();
  }

  private build(vault: Vault, accountId: string, secret: RecoverySecret): Running {
    const core = this.core;
    const keys = deriveBackupKeys(secret);
    const sink = new RelayBackup(core.api.baseUrl, keys.backupId, keys.accessSecret, {
      ...(core.deps.fetch === undefined ? {} : { fetch: core.deps.fetch }),
      session: async () => core.unlockedAccount().account.session.token,
    });
    const shapes = sealedRecord<string>(core.deps.db, vault, SHAPE_ID);
    // Counts the conversations backed up without rejoin material in the run under way.
    let missing = 0;
    const source = this.rejoin(core);
    const rejoin = {
      ticketFor: async (id: string) => {
        const ticket = await source.ticketFor(id);
        if (ticket === undefined) missing++;
        return ticket;
      },
    };
    const running: Running = {
      vault,
      accountId,
      secret,
      sink,
      writer: new BackupWriter(keys, sink, this.inputs(vault), rejoin, sealedRecord<BackupLedger>(core.deps.db, vault, BACKUP_LEDGER_ID), {
        delayMs: this.delayMs,
        onStatus: (status) => {
          if (this.running !== running) return;
          if (status.state === 'writing') missing = 0;
          if (status.state === 'done') {
            void shapes.save(this.shapeOf(core.state)).catch(() => undefined);
            // A conversation without its rejoin material yet: back up again after the next quiet moment, a few times.
            if (missing > 0 && this.missingRetries++ < MISSING_TICKET_RETRIES) running.writer.schedule();
            else if (missing === 0) this.missingRetries = 0;
          }
          core.update({ ...core.state, backup: statusView(status) });
        },
      }),
    };
    return running;
  }

  private inputs(vault: Vault): BackupInputs {
    const core = this.core;
    return appBackupInputs({
      own: () => {
        const own = core.needChat().people?.own;
        if (own === undefined) throw new ChannelError(ErrorCode.Unavailable, t('bg_err_no_identity'));
        return own;
      },
      displayName: () => core.unlockedAccount().account.displayName,
      settings: () => core.state.settings,
      conversations: () =>
        core.state.conversations
          // A conversation being joined or rejoined (its Commit not yet confirmed) is kept in the backup too.
          .filter((c) => c.status === 'active' || c.status === 'joining')
          .map((c) => {
            const names = core.chat?.restored.names(c.id);
            return names === undefined ? { id: c.id, name: c.name } : { id: c.id, name: c.name, names };
          }),
      store: new ChatStore(core.deps.db, vault),
    });
  }

  private close(): void {
    this.running?.writer.stop();
    this.running = undefined;
    this.lastShape = undefined;
    if (this.core.state.backup !== undefined) {
      const { backup: _gone, ...rest } = this.core.state;
      this.core.update(rest);
    }
  }

  /** A new recovery key was kept: the backup moves to it (written whole, then the old one deleted). */
  async newKey(secret: RecoverySecret, previous: RecoverySecret | undefined): Promise<void> {
    const { vault, account } = this.core.unlockedAccount();
    const old = this.running;
    old?.writer.stop();
    this.running = this.build(vault, account.accountId, secret);
    this.lastShape = this.shapeOf(this.core.state);
    const oldSink = previous === undefined ? undefined : (old?.secret === previous ? old.sink : this.build(vault, account.accountId, previous).sink);
    // The person is told at once how it went (Settings → Recovery); offline, the next change tries again.
    const ledger = sealedRecord<BackupLedger>(this.core.deps.db, vault, BACKUP_LEDGER_ID);
    const run = oldSink === undefined ? this.running.writer.runNow() : moveBackup(oldSink, this.running.writer, ledger);
    await run.catch((err: unknown) => reportIfBug('writing the backup under a new recovery key', err));
  }

  /** Back up now (tests and the restore's end); resolves when the backup is current or the run failed. */
  async runNow(): Promise<void> {
    if (this.running === undefined) await (this.opening ?? this.open());
    await this.running?.writer.runNow();
  }

  /** The backup as a file's text: the items sealed on this device under the kept recovery key. */
  async exportFile(): Promise<{ file: string }> {
    const { vault } = this.core.unlockedAccount();
    const secret = await loadRecoverySecret(this.core.deps.db, vault);
    if (secret === undefined) throw new ChannelError(ErrorCode.Forbidden, t('bg_err_no_recovery_key'));
    const keys = deriveBackupKeys(secret);
    const memory = new MemoryBackup();
    await new BackupWriter(keys, memory, this.inputs(vault), this.rejoin(this.core), inMemory<BackupLedger>()).runNow();
    return { file: new TextDecoder().decode(encodeBackupFile(keys.backupId, memory.items)) };
  }

  /** Deletes the account with `deleteAccount`, then its backup (the recovery key then finds nothing). */
  async deletingAccount<T>(deleteAccount: () => Promise<T>): Promise<T> {
    const { vault } = this.core.unlockedAccount();
    // Read before the account goes: deleting it wipes this device, the kept key with it.
    const secret = await loadRecoverySecret(this.core.deps.db, vault);
    const api = this.core.api;
    this.close();
    const result = await deleteAccount();
    if (secret !== undefined) {
      const keys = deriveBackupKeys(secret);
      const fetch = this.core.deps.fetch;
      await new RelayBackup(api.baseUrl, keys.backupId, keys.accessSecret, fetch === undefined ? {} : { fetch }).deleteAll();
    }
    return result;
  }

  stop(): void {
    this.running?.writer.stop();
  }
}

function statusView(s: BackupStatus): BackupStatusView {
  switch (s.state) {
    case 'idle':
      return { state: 'none' };
    case 'done':
      return { state: 'done', at: Date.now(), bytes: s.bytes };
    case 'quota':
      return { state: 'quota', maxBytes: s.maxBytes };
    default:
      return { state: s.state };
  }
}
