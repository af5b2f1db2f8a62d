// Attack: a relay that logs connections (even briefly) links an account to its
// conversations, because the connection that names the account (token
// issuance, the passkey session) also carries the anonymous mailbox
// subscriptions and token spends, and sign-up spent a token right after issuing it.
//
// The relay runs with its test-only audit switch (MICROCHAT_TEST_AUDIT_FILE: one
// line "<connection> <op kind>" per request or frame); two real backgrounds
// (BackgroundApp over `ws` and Node's pooled fetch) sign up, create, join and
// talk. At the relay, no connection that issued tokens or carried an account
// request ever subscribes a mailbox, fetches, acknowledges or spends a token,
// and sign-up itself spends none.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

/** What only delivery may do: these reveal mailboxes and spends. */
const DELIVERY_OPS = new Set(['delivery-socket', 'sub', 'unsub', 'fetch', 'ack', 'spend', 'queue', 'invite']);

describe('the connection that issues tokens is never the one that delivers', () => {
  let relay: RelayProcess;
  let dir: string;
  let auditFile: string;
  let a: Device;
  let b: Device;

  const audit = (): { lines: [string, string][]; byConnection: Map<string, Set<string>> } => {
    let text = '';
    try {
      text = readFileSync(auditFile, 'utf8');
    } catch {
      // nothing logged yet
    }
    const lines = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ') as [string, string]);
    const byConnection = new Map<string, Set<string>>();
    for (const [conn, op] of lines) {
      const ops = byConnection.get(conn) ?? new Set<string>();
      ops.add(op);
      byConnection.set(conn, ops);
    }
    return { lines, byConnection };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'microchat-audit-'));
    auditFile = join(dir, 'audit.log');
    relay = await startRelay({ env: { MICROCHAT_TEST_AUDIT_FILE: auditFile } });
  });

  afterAll(async () => {
    for (const d of [a, b]) d?.app.stop();
    await relay?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sign-up issues a batch ahead and spends nothing', async () => {
    [a, b] = await Promise.all([startDevice(relay.url, 'Alice'), startDevice(relay.url, 'Bob')]);
    await waitUntil(() => a.app.snapshot.connection === 'online' && b.app.snapshot.connection === 'online', 15_000, 'both online');
    await waitUntil(() => audit().lines.filter(([, op]) => op === 'issue').length >= 2, 15_000, 'both wallets filled');
    const { lines } = audit();
    expect(lines.some(([, op]) => op === 'account')).toBe(true);
    // Registration → first mailbox no longer spends right after issuing: nothing is spent yet at all.
    expect(lines.filter(([, op]) => op === 'spend')).toEqual([]);
  });

  it('create, join and messages: issuing and account connections never subscribe, fetch, ack or spend', async () => {
    const { conversationId } = await a.app.handlers['conversation.create']({ name: 'Audit' });
    const { link } = await a.app.handlers['invite.create']({ conversationId, mode: 'one-time' });
    expect((await b.app.handlers['invite.join']({ link })).conversationId).toBe(conversationId);
    await a.app.handlers['message.send']({ conversationId, text: 'hello Bob' });
    await b.app.handlers['message.send']({ conversationId, text: 'hello Alice' });
    await waitUntil(() => b.received(conversationId).includes('hello Bob') && a.received(conversationId).includes('hello Alice'), 20_000, 'both messages');

    const { byConnection, lines } = audit();
    // The property is not vacuous: tokens were issued, mailboxes subscribed, tokens spent.
    const issuing = [...byConnection].filter(([, ops]) => ops.has('issue'));
    expect(issuing.length).toBeGreaterThanOrEqual(2);
    expect(lines.some(([, op]) => op === 'sub')).toBe(true);
    expect(lines.filter(([, op]) => op === 'spend').length).toBeGreaterThanOrEqual(4);

    for (const [conn, ops] of byConnection) {
      const named = ops.has('issue') || ops.has('account');
      if (!named) continue;
      const delivered = [...ops].filter((op) => DELIVERY_OPS.has(op));
      expect({ conn, delivered }).toEqual({ conn, delivered: [] });
    }
    // An issuing connection carries one batch and nothing else.
    for (const [conn, ops] of issuing) expect({ conn, ops: [...ops].sort() }).toEqual({ conn, ops: ['issue', 'issue-socket'] });
  });
});
