/**
 * Helpers for the recovery tests (tests/integration/recovery-app.test.ts,
 * tests/security/backup-hostile-relay.test.ts): register a passkey in a fresh
 * profile under a display name, and read every byte the relay keeps on disk.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCredential } from '../../relay/support/soft-authenticator.ts';
import { EXT_ORIGIN, type Device } from './device.ts';

/** Every file below `dir`, recursively. */
export function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** All the relay's data files (database, WAL) as one buffer, to search for what must not be there. */
export function relayBytes(dataDir: string): Buffer {
  return Buffer.concat(files(dataDir).map((f) => readFileSync(f)));
}

/** Registers this profile's passkey as sign-up does. */
export async function register(device: Device, displayName: string): Promise<void> {
  const h = device.app.handlers;
  const { options } = (await h['account.registrationOptions']({ displayName })) as { options: { challenge: string; rp: { id: string }; user: { id: string } } };
  const { response } = await createCredential({ rpId: options.rp.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user.id });
  await h['account.completeRegistration']({ displayName, response });
}
