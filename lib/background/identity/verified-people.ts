/**
 * The people this person marked verified: personId → the identity key they
 * compared the safety number of, and whether something changed since
 * (their identity key, or a device their identity does not vouch for). One
 * record, sealed in `secrets` under `verified`, kept in memory while
 * unlocked. A change stays until the person verifies again.
 */
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';

const STORE = 'secrets';
const KEY = 'verified';

export interface Verified {
  /** base64url identity key the safety number was compared for. */
  identityKey: string;
  /** Since then: another identity key for the same person, or an unvouched device. */
  changed?: true;
}

interface VerifiedRecord {
  v: 1;
  people: Record<string, Verified>;
}

export class VerifiedPeople {
  private constructor(
    private readonly db: Database,
    private readonly vault: Vault,
    private people: Map<string, Verified>,
  ) {}

  static async load(db: Database, vault: Vault): Promise<VerifiedPeople> {
    const sealed = await db.get(STORE, KEY);
    const rec = sealed === undefined ? undefined : await vault.openJson<VerifiedRecord>(STORE, KEY, sealed);
    return new VerifiedPeople(db, vault, new Map(rec?.v === 1 ? Object.entries(rec.people) : []));
  }

  get(personId: string): Verified | undefined {
    return this.people.get(personId);
  }

  all(): ReadonlyMap<string, Verified> {
    return this.people;
  }

  verify(personId: string, identityKey: string): Promise<void> {
    return this.write(personId, { identityKey });
  }

  unverify(personId: string): Promise<void> {
    return this.write(personId, undefined);
  }

  /** Something changed for a verified person: their mark is "changed" until verified again. */
  async markChanged(personId: string): Promise<void> {
    const v = this.people.get(personId);
    if (v === undefined || v.changed === true) return;
    await this.write(personId, { ...v, changed: true });
  }

  private async write(personId: string, value: Verified | undefined): Promise<void> {
    const next = new Map(this.people);
    if (value === undefined) next.delete(personId);
    else next.set(personId, value);
    const rec: VerifiedRecord = { v: 1, people: Object.fromEntries(next) };
    await this.vault.writing(async () => {
      const sealed = await this.vault.sealJson(STORE, KEY, rec);
      await this.db.put(STORE, sealed, KEY);
    });
    // Memory follows the disk: a failed write changes neither.
    this.people = next;
  }
}
