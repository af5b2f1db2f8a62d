/**
 * The backup's small persisted state on the device, sealed by the vault in
 * `secrets` (it may hold the recovery secret): the writer's ledger and the
 * restore job. One record each, written in one transaction, so a worker
 * killed between two steps finds the last state whole.
 */
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';
import type { Persisted } from './ports.ts';

const STORE = 'secrets';
export const BACKUP_LEDGER_ID = 'backup-ledger';
export const RESTORE_JOB_ID = 'restore-job';

export function sealedRecord<T>(db: Database, vault: Vault, id: string): Persisted<T> {
  return {
    async load() {
      const sealed = await db.get(STORE, id);
      return sealed === undefined ? undefined : vault.openJson<T>(STORE, id, sealed);
    },
    async save(value) {
      await vault.writing(async () => db.put(STORE, await vault.sealJson(STORE, id, value), id));
    },
    async clear() {
      await db.delete(STORE, id);
    },
  };
}
