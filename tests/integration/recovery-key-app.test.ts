// The recovery key through the real BackgroundApp's channel (recovery.create / recovery.confirm):
// shown once, kept (sealed) only when two groups are typed back right; a wrong pair keeps nothing and
// leaves the previous key in place; a new confirmed key replaces it. Strict parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../lib/background/channel-server.ts';
import { vaultKeySlot } from '../../lib/background/db.ts';
import { Vault } from '../../lib/background/vault.ts';
import { RECOVERY_SECRET_ID, loadRecoverySecret } from '../../lib/background/app/recovery.ts';
import { formatRecoveryKey, parseRecoveryKey } from '../../lib/background/backup/recovery-key.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { CHANNEL, ErrorCode } from '../../lib/protocol/channel.ts';
import { startDevice, waitUntil, type Device } from './support/device.ts';

describe('the recovery key in the background app', () => {
  let relay: RelayProcess;
  let alice: Device;
  beforeAll(async () => {
    relay = await startRelay();
    alice = await startDevice(relay.url, 'Alice');
    // Connected before the tests, so stopping the app does not cut a connection in the middle of opening.
    await waitUntil(() => alice.app.snapshot.connection === 'online', 15_000, 'online');
  }, 60_000);
  afterAll(async () => {
    await alice?.app.stop();
    await relay?.stop();
  });

  const groupsOf = (key: string, g: [number, number]): [string, string] => {
    const all = key.split('-');
    return [all[g[0]]!, all[g[1]]!];
  };

  it('keeps a key only when two of its groups are typed back right, and a new one replaces it', async () => {
    const h = alice.app.handlers;
    const vault = await Vault.open(vaultKeySlot(alice.db));
    const first = await h['recovery.create'](null);
    expect(first.recoveryKey).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(await h['recovery.confirm']({ first: 'AAAA', second: 'BBBB' })).toEqual({ confirmed: false });
    expect(await alice.db.get('secrets', RECOVERY_SECRET_ID)).toBeUndefined();
    const [a, b] = groupsOf(first.recoveryKey, first.groups);
    expect(await h['recovery.confirm']({ first: a.toLowerCase(), second: b })).toEqual({ confirmed: true });
    const kept = await loadRecoverySecret(alice.db, vault);
    expect(formatRecoveryKey(kept!)).toBe(first.recoveryKey);
    // Sealed: the key is not in the database in the clear.
    const raw = JSON.stringify(await alice.db.getAll('secrets'));
    expect(raw).not.toContain(first.recoveryKey);
    expect(raw).not.toContain(Buffer.from(parseRecoveryKey(first.recoveryKey)).toString('base64url'));
    // Confirming again without a new key does nothing.
    expect(await h['recovery.confirm']({ first: a, second: b })).toEqual({ confirmed: false });

    // A new key not confirmed leaves the old one; confirmed, it replaces it.
    const second = await h['recovery.create'](null);
    expect(second.recoveryKey).not.toBe(first.recoveryKey);
    expect(await h['recovery.confirm']({ first: 'ZZZZ', second: 'ZZZZ' })).toEqual({ confirmed: false });
    expect(formatRecoveryKey((await loadRecoverySecret(alice.db, vault))!)).toBe(first.recoveryKey);
    const [c, d] = groupsOf(second.recoveryKey, second.groups);
    expect(await h['recovery.confirm']({ first: c, second: d })).toEqual({ confirmed: true });
    expect(formatRecoveryKey((await loadRecoverySecret(alice.db, vault))!)).toBe(second.recoveryKey);
  }, 30_000);

  it('keeps message history out of the backup unless the person opts in, and remembers the choice', async () => {
    expect(alice.app.snapshot.settings.backupHistory).toBeUndefined();
    expect(await alice.app.handlers['settings.setBackupHistory']({ enabled: true })).toBeNull();
    expect(alice.app.snapshot.settings.backupHistory).toBe(true);
    expect(await alice.db.get('settings', 'backupHistory')).toBe(true);
    await alice.app.handlers['settings.setBackupHistory']({ enabled: false });
    expect(alice.app.snapshot.settings.backupHistory).toBe(false);
  });

  it('reads its parameters strictly', async () => {
    const call = (params: unknown) => dispatch(alice.app.handlers, { channel: CHANNEL, method: 'recovery.confirm', params });
    expect(await call({ first: 'A', second: 'B' })).toEqual({ ok: true, result: { confirmed: false } });
    for (const params of [{ first: 'A' }, { first: 'A', second: 'B', extra: 1 }, { first: 1, second: 'B' }, { first: 'A'.repeat(17), second: 'B' }, null]) {
      const answer = await call(params);
      expect(answer.ok).toBe(false);
      expect([ErrorCode.BadRequest, ErrorCode.InvalidInput]).toContain(answer.ok ? undefined : answer.error.code);
    }
  });
});
