/**
 * Searching a store's files on disk for bytes (the deletion proofs of
 * deletion, blobs and backups tests): which files hold them, and waiting for
 * a condition on them.
 */
import { readFileSync } from 'node:fs';
import type { StoreRelay } from './stores.ts';

/** The files of the store that hold these bytes (searched for their first 64). */
export function filesContaining(relay: StoreRelay, needle: Uint8Array): string[] {
  const probe = Buffer.from(needle.subarray(0, 64));
  return relay.files().filter((f) => {
    try {
      return readFileSync(f).indexOf(probe) >= 0;
    } catch (err) {
      // Listed, then replaced before we read it (Redis's AOF rewrite swaps its files): it holds nothing now.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  });
}

/** Polls `cond` every 100 ms for up to `ms`; whether it held. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/**
 * Whether these bytes reach the store's files (within `ms`): the check that
 * the search works before a test shows them gone. Not read once at once: on
 * Redis the AOF is written after the reply when a slow fsync holds it back
 * (up to 2 s with `appendfsync everysec`), and a rewrite that swaps the AOF
 * files between listing and reading them hides them for a moment; the CI run
 * of 0fda897 failed once on each store-agnostic read of this kind.
 */
export function reachesDisk(relay: StoreRelay, needle: Uint8Array, ms = 5000): Promise<boolean> {
  return until(() => filesContaining(relay, needle).length > 0, ms);
}
