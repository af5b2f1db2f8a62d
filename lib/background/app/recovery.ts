/**
 * The recovery key in the background app (issue #19): made on request
 * (sign-up, or Settings → New recovery key), shown once, and kept only once
 * the person typed two of its groups back. Until then it lives in memory
 * alone: a key nobody wrote down never replaces the one they did. Kept
 * sealed in `secrets` under RECOVERY_SECRET_ID, where the backup writer
 * reads it (lib/background/backup/).
 */
import { fromB64, toB64 } from '../../bytes.ts';
import type { RecoveryKeyView } from '../../protocol/backup.ts';
import { confirmsGroups, confirmationGroups, formatRecoveryKey, generateRecoverySecret, RECOVERY_SECRET_BYTES, type RecoverySecret } from '../backup/recovery-key.ts';
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';
import type { AppCore } from './core.ts';

const STORE = 'secrets';
export const RECOVERY_SECRET_ID = 'recovery-key';

/** The kept recovery secret, if the person confirmed one. */
export async function loadRecoverySecret(db: Database, vault: Vault): Promise<RecoverySecret | undefined> {
  const sealed = await db.get(STORE, RECOVERY_SECRET_ID);
  if (sealed === undefined) return undefined;
  const secret = fromB64(await vault.openJson<string>(STORE, RECOVERY_SECRET_ID, sealed));
  return secret !== null && secret.length === RECOVERY_SECRET_BYTES ? (secret as RecoverySecret) : undefined;
}

export class RecoveryControl {
  private pending: { secret: RecoverySecret; view: RecoveryKeyView } | undefined;

  constructor(
    private readonly core: AppCore,
    /** Called with the new secret and the one it replaces (the backup moves to the new key). */
    private readonly onNewKey: (secret: RecoverySecret, previous: RecoverySecret | undefined) => Promise<void> = async () => {},
  ) {}

  create(): RecoveryKeyView {
    this.core.unlockedAccount();
    const secret = generateRecoverySecret();
    const view: RecoveryKeyView = { recoveryKey: formatRecoveryKey(secret), groups: confirmationGroups() };
    this.pending = { secret, view };
    return view;
  }

  async confirm(first: string, second: string): Promise<{ confirmed: boolean }> {
    const { vault } = this.core.unlockedAccount();
    const pending = this.pending;
    if (pending === undefined || !confirmsGroups(pending.view.recoveryKey, pending.view.groups, [first, second])) return { confirmed: false };
    const db = this.core.deps.db;
    const previous = await loadRecoverySecret(db, vault);
    await vault.writing(async () => db.put(STORE, await vault.sealJson(STORE, RECOVERY_SECRET_ID, toB64(pending.secret)), RECOVERY_SECRET_ID));
    this.pending = undefined;
    await this.onNewKey(pending.secret, previous);
    return { confirmed: true };
  }
}
