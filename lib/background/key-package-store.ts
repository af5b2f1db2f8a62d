/**
 * The private parts of our KeyPackages in the relay's directory, one sealed
 * record each in the `keyPackages` store, keyed by the base64url
 * KeyPackageRef (RFC 9420 §5.2) a Welcome names its recipient by.
 *
 * A one-time package's record is deleted once a Welcome used it; the
 * last-resort one stays until a newer one replaced it at the relay and its
 * lifetime ran out (a Welcome made with it may still be on its way).
 */
import type { Database } from './db.ts';
import type { Vault } from './vault.ts';

const STORE = 'keyPackages';

export interface StoredKeyPackage {
  v: 1;
  /** base64url of the encoded KeyPackage we published. */
  keyPackage: string;
  /** base64url HPKE and signature private keys (KeyPackagePrivate). */
  initPrivateKey: string;
  encryptionPrivateKey: string;
  signaturePrivateKey: string;
  /** base64url of the leaf's credential identity: a pseudonym of the conversation this package will join. */
  pseudonym: string;
  lastResort: boolean;
  /**
   * A last-resort package may join us to several conversations: the
   * "groupId/epoch" of each Welcome it already joined, so a replayed one is
   * refused even after its payload hash is forgotten.
   */
  joined?: string[];
  /** Seconds since the epoch: the leaf lifetime's not_after. */
  notAfter: number;
  createdAt: number;
}

export class KeyPackageStore {
  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
  ) {}

  /** Keep these records, all in one transaction (sealed before it opens). */
  async put(records: ReadonlyMap<string, StoredKeyPackage>): Promise<void> {
    await this.vault.writing(async () => {
      const sealed = await Promise.all([...records].map(async ([ref, r]) => [ref, await this.vault.sealJson(STORE, ref, r)] as const));
      const tx = this.db.transaction(STORE, 'readwrite');
      for (const [ref, s] of sealed) void tx.store.put(s, ref);
      await tx.done;
    });
  }

  async get(ref: string): Promise<StoredKeyPackage | undefined> {
    const sealed = await this.db.get(STORE, ref);
    if (sealed === undefined) return undefined;
    const r = await this.vault.openJson<StoredKeyPackage>(STORE, ref, sealed);
    return r.v === 1 ? r : undefined;
  }

  /** The refs we hold private parts for (nothing is opened). */
  async refs(): Promise<Set<string>> {
    return new Set(await this.db.getAllKeys(STORE));
  }

  /** Every record that opens (one that does not is useless and goes at the next prune). */
  async all(): Promise<Map<string, StoredKeyPackage | undefined>> {
    const tx = this.db.transaction(STORE);
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    const out = new Map<string, StoredKeyPackage | undefined>();
    await Promise.all(
      keys.map(async (k, i) => {
        out.set(k, await this.vault.openJson<StoredKeyPackage>(STORE, k, values[i]).catch(() => undefined));
      }),
    );
    return out;
  }

  async delete(refs: readonly string[]): Promise<void> {
    if (refs.length === 0) return;
    const tx = this.db.transaction(STORE, 'readwrite');
    for (const ref of refs) void tx.store.delete(ref);
    await tx.done;
  }
}
