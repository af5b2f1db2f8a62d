/**
 * Blobs in the embedded store: two tables in the relay's own SQLite file
 * (relay.db), on a connection of their own with the same settings as the
 * message store's (WAL, secure_delete), so a deleted chunk is zeroed in the
 * main file and scrub() truncates the WAL after deletions.
 *
 * Who still has to read a blob is a list on its row (`pending`,
 * ",mb1,mb2,"), as for messages. Triggers on the message store's tables keep
 * it true whichever way a reader goes: a registration deleted (unregistered,
 * the mailbox deleted or dropped as idle, the queue deleted) takes the
 * mailbox off the lists of that queue's blobs, a blob nobody is left to read
 * goes, a deleted queue takes its blobs, and a deleted blob its chunks, all in
 * the transaction that deleted the registration or queue.
 *
 * Every method runs one synchronous transaction (BEGIN IMMEDIATE … COMMIT);
 * the message store's group commit is synchronous too, so the two connections
 * never hold the write lock across an await of each other's.
 */

import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import { SecureSqliteFile } from '../sqlite-file.ts';
import { blobChunkLength } from '../../lib/protocol/relay-blobs.ts';
import type { Spend } from '../store.ts';
import type { BlobCaps, BlobResult, BlobStore, FetchedChunk, NewBlob } from './store.ts';

/** The message store (opened first) creates `queues`, `registrations` and `spent`; these sit beside them. */
const SCHEMA = `
-- received: chunks stored so far (complete when it equals chunks); expires_at: the upload deadline, then the TTL.
CREATE TABLE IF NOT EXISTS blobs (
  blob_id TEXT PRIMARY KEY, queue_hash TEXT NOT NULL, write_key_hash TEXT NOT NULL, size INTEGER NOT NULL,
  chunks INTEGER NOT NULL, received INTEGER NOT NULL, pending TEXT NOT NULL, expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_queue ON blobs (queue_hash);
CREATE INDEX IF NOT EXISTS blobs_expiry ON blobs (expires_at);
-- Up to 1 MiB a row: a rowid table (WITHOUT ROWID suits small rows only).
CREATE TABLE IF NOT EXISTS blob_chunks (blob_id TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (blob_id, idx));
CREATE TRIGGER IF NOT EXISTS blobs_drop_chunks AFTER DELETE ON blobs BEGIN
  DELETE FROM blob_chunks WHERE blob_id = OLD.blob_id;
END;
CREATE TRIGGER IF NOT EXISTS blobs_queue_deleted AFTER DELETE ON queues BEGIN
  DELETE FROM blobs WHERE queue_hash = OLD.queue_hash;
END;
CREATE TRIGGER IF NOT EXISTS blobs_reader_left AFTER DELETE ON registrations BEGIN
  UPDATE blobs SET pending = replace(pending, ',' || OLD.mailbox_id || ',', ',')
    WHERE queue_hash = OLD.queue_hash AND instr(pending, ',' || OLD.mailbox_id || ',') > 0;
  DELETE FROM blobs WHERE queue_hash = OLD.queue_hash AND pending = ',';
END;
`;

const num = (v: SQLOutputValue | undefined): number => Number(v);
const str = (v: SQLOutputValue | undefined): string => (typeof v === 'string' ? v : String(v));
const entry = (mailboxId: string): string => `,${mailboxId},`;

export class SqliteBlobStore implements BlobStore {
  private readonly file: SecureSqliteFile;
  private readonly db: DatabaseSync;
  private readonly s: Record<string, StatementSync>;

  constructor(path: string) {
    this.file = new SecureSqliteFile(path, SCHEMA);
    this.db = this.file.db;
    const p = (sql: string): StatementSync => this.db.prepare(sql);
    this.s = {
      getQueue: p('SELECT cap_hash, prev_cap_hash FROM queues WHERE queue_hash = ?'),
      readers: p(`SELECT group_concat(mailbox_id, ',') AS mailboxes FROM registrations WHERE queue_hash = ? AND active = 1`),
      queueUse: p('SELECT COUNT(*) AS n, coalesce(SUM(size), 0) AS bytes FROM blobs WHERE queue_hash = ?'),
      totalUse: p('SELECT coalesce(SUM(size), 0) AS bytes FROM blobs'),
      spend: p('INSERT OR IGNORE INTO spent (key_id, input_hash) VALUES (?, ?)'),
      insBlob: p(
        'INSERT INTO blobs (blob_id, queue_hash, write_key_hash, size, chunks, received, pending, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)',
      ),
      getBlob: p('SELECT write_key_hash, size, chunks, received, expires_at FROM blobs WHERE blob_id = ?'),
      hasChunk: p('SELECT 1 AS x FROM blob_chunks WHERE blob_id = ? AND idx = ?'),
      insChunk: p('INSERT INTO blob_chunks (blob_id, idx, data) VALUES (?, ?, ?)'),
      received: p('UPDATE blobs SET received = received + 1 WHERE blob_id = ?'),
      complete: p('UPDATE blobs SET expires_at = ? WHERE blob_id = ?'),
      fetch: p(
        `SELECT b.size, c.data FROM blobs b JOIN blob_chunks c ON c.blob_id = b.blob_id AND c.idx = ?3
         WHERE b.blob_id = ?1 AND instr(b.pending, ?2) > 0 AND b.received = b.chunks AND b.expires_at > ?4`,
      ),
      pendingOf: p('SELECT pending FROM blobs WHERE blob_id = ?'),
      setPending: p('UPDATE blobs SET pending = ? WHERE blob_id = ?'),
      delBlob: p('DELETE FROM blobs WHERE blob_id = ?'),
      delByWriter: p('DELETE FROM blobs WHERE blob_id = ? AND write_key_hash = ?'),
      delQueueBlobs: p('DELETE FROM blobs WHERE queue_hash = ?'),
      sweep: p('DELETE FROM blobs WHERE expires_at <= ?'),
    };
  }

  private tx<T>(fn: () => T): T {
    return this.file.tx(fn);
  }

  private spend(spend: Spend): boolean {
    return Number(this.s.spend!.run(spend.keyId, spend.inputHash).changes) === 1;
  }

  async createBlob(spend: Spend, blob: NewBlob, caps: BlobCaps): Promise<BlobResult<null>> {
    return this.tx(() => {
      const q = this.s.getQueue!.get(blob.queueHash);
      if (q === undefined) return { ok: false, reason: 'not_found' } as const;
      if (str(q.cap_hash) !== blob.capHash) {
        const stale = q.prev_cap_hash !== null && str(q.prev_cap_hash) === blob.capHash;
        return { ok: false, reason: stale ? 'stale' : 'not_found' } as const;
      }
      const readers = this.s.readers!.get(blob.queueHash)?.mailboxes;
      if (typeof readers !== 'string' || readers === '') return { ok: false, reason: 'not_found' } as const;
      const use = this.s.queueUse!.get(blob.queueHash);
      if (num(use?.n) + 1 > caps.maxBlobsPerQueue || num(use?.bytes) + blob.size > caps.maxBytesPerQueue) {
        return { ok: false, reason: 'quota' } as const;
      }
      if (num(this.s.totalUse!.get()?.bytes) + blob.size > caps.maxTotalBytes) return { ok: false, reason: 'full' } as const;
      if (!this.spend(spend)) return { ok: false, reason: 'spent' } as const;
      this.s.insBlob!.run(blob.blobId, blob.queueHash, blob.writeKeyHash, blob.size, blob.chunks, `,${readers},`, blob.expiresAt);
      return { ok: true, value: null } as const;
    });
  }

  async putChunk(
    spend: Spend,
    blobId: string,
    writeKeyHash: string,
    index: number,
    data: Uint8Array,
    completeExpiresAt: number,
    now: number,
  ): Promise<BlobResult<{ complete: boolean }>> {
    return this.tx(() => {
      const b = this.s.getBlob!.get(blobId);
      if (b === undefined || str(b.write_key_hash) !== writeKeyHash || num(b.expires_at) <= now) {
        return { ok: false, reason: 'not_found' } as const;
      }
      const chunks = num(b.chunks);
      if (index >= chunks || data.length !== blobChunkLength(num(b.size), index)) return { ok: false, reason: 'invalid' } as const;
      if (this.s.hasChunk!.get(blobId, index) !== undefined) return { ok: false, reason: 'conflict' } as const;
      if (!this.spend(spend)) return { ok: false, reason: 'spent' } as const;
      this.s.insChunk!.run(blobId, index, data);
      this.s.received!.run(blobId);
      const complete = num(b.received) + 1 === chunks;
      if (complete) this.s.complete!.run(completeExpiresAt, blobId);
      return { ok: true, value: { complete } } as const;
    });
  }

  async fetchChunk(blobId: string, mailboxId: string, index: number, now: number): Promise<FetchedChunk | null> {
    const row = this.s.fetch!.get(blobId, entry(mailboxId), index, now);
    if (row === undefined || !(row.data instanceof Uint8Array)) return null;
    return { size: num(row.size), data: new Uint8Array(row.data) };
  }

  async release(blobId: string, mailboxId: string): Promise<boolean> {
    const released = this.tx(() => {
      const row = this.s.pendingOf!.get(blobId);
      if (row === undefined) return false;
      const pending = str(row.pending);
      if (!pending.includes(entry(mailboxId))) return false;
      const left = pending.replace(entry(mailboxId), ',');
      if (left === ',') this.s.delBlob!.run(blobId);
      else this.s.setPending!.run(left, blobId);
      return true;
    });
    if (released) this.file.deleted();
    return released;
  }

  async deleteByWriter(blobId: string, writeKeyHash: string): Promise<boolean> {
    const deleted = this.tx(() => Number(this.s.delByWriter!.run(blobId, writeKeyHash).changes) === 1);
    if (deleted) this.file.deleted();
    return deleted;
  }

  async dropQueue(queueHash: string): Promise<void> {
    // Normally done already by the trigger on `queues`; kept so both stores answer the same call.
    this.tx(() => this.s.delQueueBlobs!.run(queueHash));
    this.file.deleted();
  }

  async sweep(now: number): Promise<number> {
    const n = this.tx(() => Number(this.s.sweep!.run(now).changes));
    if (n > 0) this.file.deleted();
    return n;
  }

  async scrub(): Promise<void> {
    this.file.scrub();
  }

  async close(): Promise<void> {
    this.file.close();
  }
}
