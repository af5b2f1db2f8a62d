/**
 * A backup slot in memory: the writer writes into it to make a backup file
 * on the device (Export backup), so the file holds exactly the sealed items
 * the relay would, without the relay being involved.
 */
import type { BackupItemInfo } from '../../protocol/relay-backups.ts';
import type { BackupSink } from './backup-storage.ts';
import type { Persisted } from './ports.ts';
import type { ItemName } from './recovery-key.ts';

export class MemoryBackup implements BackupSink {
  readonly items = new Map<ItemName, Uint8Array>();

  async list(): Promise<BackupItemInfo[] | null> {
    return [...this.items].map(([item, data]) => ({ item, size: data.length }));
  }

  async get(item: ItemName): Promise<Uint8Array | null> {
    return this.items.get(item) ?? null;
  }

  async put(item: ItemName, data: Uint8Array): Promise<{ bytes: number; maxBytes: number }> {
    this.items.set(item, data);
    let bytes = 0;
    for (const d of this.items.values()) bytes += d.length;
    return { bytes, maxBytes: Number.MAX_SAFE_INTEGER };
  }

  async drop(item: ItemName): Promise<void> {
    this.items.delete(item);
  }

  async deleteAll(): Promise<void> {
    this.items.clear();
  }
}

/** A Persisted value that lives only as long as this object (a one-off write, as for a file). */
export function inMemory<T>(): Persisted<T> {
  let value: T | undefined;
  return {
    load: async () => (value === undefined ? undefined : structuredClone(value)),
    save: async (v) => void (value = structuredClone(v)),
    clear: async () => void (value = undefined),
  };
}
