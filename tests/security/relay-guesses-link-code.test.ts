// Attack: the relay (or anyone who learns a slot number) tries to take over a device link.
// It knows the slot of every link code, so it joins the slot itself and runs the key exchange
// with a guessed secret, hoping to receive the person's account. CPace gives it one online guess:
// the new device refuses it (wrong-code) and keeps nothing, and the slot is spent, so the real
// existing device is told the code expired and the person simply shows a new code. The relay
// sees nothing it could test further guesses against: only uniformly random shares.
// Second half: the relay answers the existing device's join itself, posing as the new device
// with a guessed secret; the existing device refuses before handing anything over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayApi } from '../../lib/background/relay-api.ts';
import { formatLinkCode, newLinkCode } from '../../lib/background/linking/code.ts';
import { openAsExisting, openAsNew } from '../../lib/background/linking/handshake.ts';
import { takeOver } from '../../lib/background/linking/handover.ts';
import { memoryTransportPair, RelayLinkTransport } from '../../lib/background/linking/transport.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient } from '../relay/support/client.ts';
import { FakeAccount, FakeDirectory, FakeHistory, FakeIdentity } from '../support/link-fakes.ts';

describe('the relay guesses a link code', () => {
  let relay: RelayProcess;
  let api: RelayApi;
  let sessions: string[];
  beforeAll(async () => {
    relay = await startRelay();
    const c = new RelayClient(relay.url);
    sessions = [];
    for (let i = 0; i < 3; i++) sessions.push((await c.register()).session);
    api = new RelayApi(relay.url);
  }, 60_000);
  afterAll(async () => {
    await relay.stop();
  });

  it('joining the slot with a guessed secret gets nothing, and spends the code', async () => {
    const fresh = { identity: new FakeIdentity(false), directory: new FakeDirectory(), account: new FakeAccount(null), history: new FakeHistory() };
    const opened = await RelayLinkTransport.open(api, sessions[0]!);
    const code = newLinkCode(opened.slot);
    const newSide = openAsNew(opened.transport, code, 10_000).then((link) => takeOver(link.channel, fresh, { timeoutMs: 5_000, deviceName: 'x' }));
    // Settles while the attacker's own exchange is awaited; checked below.
    newSide.catch(() => undefined);

    // The attacker knows the slot, not the secret.
    const attacker = await RelayLinkTransport.join(api, sessions[1]!, opened.slot);
    const guess = { slot: opened.slot, secret: crypto.getRandomValues(new Uint8Array(5)) };
    await expect(openAsExisting(attacker, guess, 10_000)).rejects.toMatchObject({ code: 'wrong-code' });
    await expect(newSide).rejects.toMatchObject({ code: 'wrong-code' });
    expect(fresh.identity.identity).toBeNull();
    expect(fresh.account.imported).toBeNull();

    // The person's real device now finds the code spent, not a second chance for anyone.
    await expect(RelayLinkTransport.join(api, sessions[2]!, opened.slot)).rejects.toMatchObject({ code: 'expired' });
    expect(formatLinkCode(code)).not.toBe(formatLinkCode(guess));
  });

  it('posing as the new device with a guessed secret: the existing device hands nothing over', async () => {
    const code = newLinkCode(77);
    const [existingEnd, relayEnd] = memoryTransportPair();
    const existing = openAsExisting(existingEnd, code, 5_000);
    existing.catch(() => undefined);
    await expect(openAsNew(relayEnd, { slot: 77, secret: crypto.getRandomValues(new Uint8Array(5)) }, 5_000)).rejects.toMatchObject({ code: 'wrong-code' });
    await expect(existing).rejects.toMatchObject({ code: 'wrong-code' });
  });
});
