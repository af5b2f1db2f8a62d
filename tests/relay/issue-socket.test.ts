// The issuance socket (relay/issue-socket.ts) on the real relay process, driven
// by the background's own client (lib/background/token-issuer.ts): one
// authenticated batch per connection, then the relay closes it; a missing or
// bad session is a typed error; an honest relay shows every account the same
// key. The client's reader refuses malformed answers.
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient } from './support/client.ts';
import { parseIssued, socketIssuer } from '../../lib/background/token-issuer.ts';
import type { WebSocketConstructor } from '../../lib/background/relay-connection.ts';

const voprf = ristretto255_oprf.voprf;
const blinded = (n: number): Uint8Array[] => Array.from({ length: n }, () => voprf.blind(crypto.getRandomValues(new Uint8Array(32))).blinded);

describe('issuance socket', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('issues one batch with a proof under the key it lists, for every account the same key', async () => {
    const c = new RelayClient(relay.url);
    const [alice, bob] = [await c.register(), await c.register()];
    const issue = socketIssuer(() => relay.url, WebSocket as unknown as WebSocketConstructor);
    const a = await issue(alice.session, blinded(3));
    const b = await issue(bob.session, blinded(2));
    expect(a.evaluated).toHaveLength(3);
    expect(b.keyId).toBe(a.keyId);
    const key = a.keys.find((k) => k.keyId === a.keyId);
    expect(key?.issuing).toBe(true);
    expect(a.keys.filter((k) => k.issuing)).toHaveLength(1);
  });

  it('refuses without a valid session (typed), and closes the socket after its one answer', async () => {
    const issue = socketIssuer(() => relay.url, WebSocket as unknown as WebSocketConstructor);
    await expect(issue('A'.repeat(43), blinded(1))).rejects.toMatchObject({ name: 'RelayApiError', code: 'unauthenticated' });
    const ws = new WebSocket(relay.url.replace(/^http/, 'ws') + '/v1/tokens/socket');
    const frames: string[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => frames.push(String(d)));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ t: 'sub', mailboxId: 'x' }));
    ws.send(JSON.stringify({ t: 'issue' }));
    expect(await closed).toBe(1000);
    // Only the first frame is answered, and it is no delivery operation.
    expect(frames).toHaveLength(1);
    expect(JSON.parse(frames[0]!)).toMatchObject({ t: 'error', code: 'bad_request' });
  });

  it('the client reads the answer strictly', () => {
    const good = { t: 'issued', keyId: 'k', evaluated: ['A'.repeat(43)], proof: 'A'.repeat(86), keys: [{ keyId: 'k', publicKey: 'A'.repeat(43), issuing: true, acceptUntil: 5 }] };
    expect(parseIssued(JSON.stringify(good), 1).keyId).toBe('k');
    expect(() => parseIssued(JSON.stringify(good), 2)).toThrow(/malformed/);
    expect(() => parseIssued(JSON.stringify({ ...good, proof: 'A' }), 1)).toThrow(/malformed/);
    expect(() => parseIssued(JSON.stringify({ ...good, keys: [{ ...good.keys[0], acceptUntil: 'x' }] }), 1)).toThrow(/malformed/);
    expect(() => parseIssued('not json', 1)).toThrow(/malformed/);
    expect(() => parseIssued(JSON.stringify({ t: 'error', code: 'rate_limited', message: 'slow' }), 1)).toThrow(expect.objectContaining({ code: 'rate_limited' }));
  });
});
