/**
 * Keeps the backup at the relay up to date (issue #19), incrementally: a
 * run re-uploads only the history segments whose content changed since the
 * last run (a ledger on the device remembers what was uploaded), then the
 * manifest, then drops items nothing names any more. Runs are debounced
 * (`schedule`), one at a time; a change during a run makes one more run.
 *
 *   changes ─schedule()─▶ wait delayMs ─▶ run: segments Δ ▶ manifest ▶ drop stale
 *
 * A refusal over quota is a status the view shows; being offline leaves the
 * ledger as it was, so the next run uploads what is missing.
 */

import { classify } from '../failure.ts';
import { RelayApiError } from '../relay-wire.ts';
import {
  BACKUP_VERSION,
  cutSegments,
  encodeManifest,
  encodeSegment,
  segmentHash,
  type BackupConversation,
  type BackupManifest,
} from './backup-content.ts';
import { sealItem } from './backup-seal.ts';
import type { BackupSink } from './backup-storage.ts';
import type { BackupInputs, Persisted, RejoinSource } from './ports.ts';
import type { BackupKeys, ItemName } from './recovery-key.ts';

/** What was uploaded last: per item, the hash of its plaintext. */
export interface BackupLedger {
  backupId: string;
  written: number;
  items: Record<string, string>;
}

export type BackupStatus =
  | { state: 'idle' }
  | { state: 'writing' }
  | { state: 'done'; uploaded: number; bytes: number; maxBytes: number }
  | { state: 'quota'; maxBytes: number }
  | { state: 'offline' }
  | { state: 'failed' };

export const MANIFEST_ITEM = 'manifest';
/**
 * A segment's item is named by its content too: a changed segment goes under a new name, and the old one is
 * dropped only after the manifest that stops naming it is written. Rewriting it in place left, for a worker
 * stopped between the two writes (or a restore reading between them), a manifest whose hash no longer matched
 * its segment: a backup no key could restore until the next run.
 */
export const segmentItem = (conversationId: string, index: number, hash: string): string => `segment:${conversationId}:${index}:${hash}`;

export interface BackupWriterOptions {
  delayMs?: number;
  onStatus?: (status: BackupStatus) => void;
}

export class BackupWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastMaxBytes = 0;
  status: BackupStatus = { state: 'idle' };

  constructor(
    private readonly keys: BackupKeys,
    private readonly sink: BackupSink,
    private readonly inputs: BackupInputs,
    private readonly rejoin: RejoinSource,
    private readonly ledger: Persisted<BackupLedger>,
    private readonly options: BackupWriterOptions = {},
  ) {}

  private setStatus(status: BackupStatus): void {
    this.status = status;
    this.options.onStatus?.(status);
  }

  /** Something changed: back up after a quiet moment (many changes, one run). */
  schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runNow().catch(() => undefined);
    }, this.options.delayMs ?? 30_000);
  }

  /** Runs now (or once more after the run in progress); resolves when the backup is current. */
  async runNow(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.runOnce();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async put(item: ItemName, plaintext: Uint8Array): Promise<{ bytes: number; maxBytes: number }> {
    return this.sink.put(item, await sealItem(this.keys.key, this.keys.backupId, item, plaintext));
  }

  private async runOnce(): Promise<void> {
    this.setStatus({ state: 'writing' });
    try {
      const stored = await this.ledger.load();
      const prev: BackupLedger = stored?.backupId === this.keys.backupId ? stored : { backupId: this.keys.backupId, written: 0, items: {} };
      const next: BackupLedger = { backupId: this.keys.backupId, written: prev.written + 1, items: {} };
      const settings = await this.inputs.settings();
      let uploaded = 0;
      let bytes = 0;
      const conversations: BackupConversation[] = [];
      for (const c of await this.inputs.conversations()) {
        const refs: BackupConversation['segments'] = [];
        if (settings.backupHistory) {
          for (const segment of cutSegments(c.id, await this.inputs.history(c.id))) {
            const plaintext = encodeSegment(segment);
            const hash = segmentHash(plaintext);
            const item = this.keys.itemName(segmentItem(c.id, segment.index, hash));
            if (prev.items[item] !== hash) {
              ({ bytes, maxBytes: this.lastMaxBytes } = await this.put(item, plaintext));
              uploaded++;
            }
            next.items[item] = hash;
            refs.push({ item, hash, count: segment.records.length });
          }
        }
        const names = c.names === undefined ? {} : { names: c.names };
        conversations.push({ id: c.id, name: c.name, rejoin: (await this.rejoin.ticketFor(c.id)) ?? new Uint8Array(), segments: refs, ...names });
      }
      const manifest: BackupManifest = {
        v: BACKUP_VERSION,
        written: next.written,
        identity: await this.inputs.identity(),
        displayName: await this.inputs.displayName(),
        settings,
        conversations,
      };
      const manifestItem = this.keys.itemName(MANIFEST_ITEM);
      ({ bytes, maxBytes: this.lastMaxBytes } = await this.put(manifestItem, encodeManifest(manifest)));
      uploaded++;
      next.items[manifestItem] = 'manifest';
      // Only once the manifest no longer names them: a restore in between still finds every segment.
      for (const item of Object.keys(prev.items)) if (!(item in next.items)) await this.sink.drop(item as ItemName);
      await this.ledger.save(next);
      this.setStatus({ state: 'done', uploaded, bytes, maxBytes: this.lastMaxBytes });
    } catch (err) {
      if (err instanceof RelayApiError && err.code === 'quota_exceeded') this.setStatus({ state: 'quota', maxBytes: this.lastMaxBytes });
      else this.setStatus(classify(err).kind === 'offline' ? { state: 'offline' } : { state: 'failed' });
      throw err;
    }
  }
}

/**
 * A new recovery key: the whole backup is written under the new keys (a
 * fresh ledger), then the old backup is deleted, so the old key stops working
 * and a failure half-way leaves the old backup whole.
 */
export async function moveBackup(oldSink: BackupSink, newWriter: BackupWriter, ledger: Persisted<BackupLedger>): Promise<void> {
  await ledger.clear();
  await newWriter.runNow();
  await oldSink.deleteAll();
}
