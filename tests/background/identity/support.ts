// Shared fixtures for the identity tests: a fresh database and vault per call.
import 'fake-indexeddb/auto';
import { openDatabase, vaultKeySlot, type Database } from '../../../lib/background/db.ts';
import { Vault } from '../../../lib/background/vault.ts';

let n = 0;

export async function freshStore(): Promise<{ db: Database; vault: Vault }> {
  const db = await openDatabase(`identity-test-${process.pid}-${n++}`);
  return { db, vault: await Vault.open(vaultKeySlot(db)) };
}
