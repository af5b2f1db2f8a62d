// Attack: a relay that logs connections links an account to its mailboxes and
// spends when one HTTP connection carries both. KeyPackage requests name the
// account (upload and count by the device, claims by whoever adds someone) and
// come at any time, after the device already spent tokens and touched
// mailboxes over pooled HTTP connections: the account request would ride a
// connection that revealed them.
//
// The relay runs with its test-only audit switch (one line "<connection> <op
// kind>" per request). Two real backgrounds connect (KeyPackages uploaded),
// create conversations (mailboxes made: spends), then one adds the other by
// address (a claim, a Welcome) and the supply is topped up again. No
// connection that carried an account request carries a delivery op.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppCore } from '../../lib/background/app/core.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

const DELIVERY_OPS = new Set(['delivery-socket', 'sub', 'unsub', 'fetch', 'ack', 'spend', 'queue', 'invite']);
const coreOf = (d: Device): AppCore => (d.app as unknown as { core: AppCore }).core;

describe('KeyPackage requests never share a connection with anonymous ones', () => {
  let relay: RelayProcess;
  let dir: string;
  let auditFile: string;
  let a: Device;
  let b: Device;

  const byConnection = (): Map<string, Set<string>> => {
    let text = '';
    try {
      text = readFileSync(auditFile, 'utf8');
    } catch {
      // nothing logged yet
    }
    const out = new Map<string, Set<string>>();
    for (const [conn, op] of text.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string])) {
      out.set(conn, (out.get(conn) ?? new Set<string>()).add(op));
    }
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'microchat-audit-'));
    auditFile = join(dir, 'audit.log');
    relay = await startRelay({ env: { MICROCHAT_TEST_AUDIT_FILE: auditFile } });
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => a.app.snapshot.connection === 'online' && b.app.snapshot.connection === 'online', 15_000, 'both online');
  });

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims, uploads and counts after spends ride connections of their own', async () => {
    const address = await b.app.handlers['device.address']({});
    for (const name of ['One', 'Two']) await a.app.handlers['conversation.create']({ name });
    const { conversationId } = await a.app.handlers['conversation.create']({ name: 'Three' });
    await a.app.handlers['conversation.addDevices']({ conversationId, devices: [address] });
    await waitUntil(() => b.app.snapshot.conversations.some((c) => c.id === conversationId && c.status === 'active'), 15_000, 'Bob in');
    await coreOf(a).directory!.supply.replenish();
    await coreOf(b).directory!.supply.replenish();

    const conns = byConnection();
    const named = [...conns].filter(([, ops]) => ops.has('account'));
    const spent = [...conns].filter(([, ops]) => ops.has('spend'));
    // Not vacuous: account requests and spends both happened, over several connections.
    expect(named.length).toBeGreaterThanOrEqual(4);
    expect(spent.length).toBeGreaterThanOrEqual(4);
    for (const [conn, ops] of named) {
      const delivered = [...ops].filter((op) => DELIVERY_OPS.has(op));
      expect({ conn, delivered }).toEqual({ conn, delivered: [] });
    }
  });
});
