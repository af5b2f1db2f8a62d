// The token wallet's client-side VOPRF: outputs verify only under the key the
// relay publishes; a proof for another key, or a key it does not publish, is
// refused; tokens persist (sealed by the store) and are spent once each.
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { describe, expect, it, vi } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { RelayApiError, type RelayApi, type TokenKeyInfo } from '../../lib/background/relay-api.ts';
import { TokenError, TokenWallet, type StoredToken, type TokenStore } from '../../lib/background/tokens.ts';

const voprf = ristretto255_oprf.voprf as typeof ristretto255_oprf.voprf & { evaluate(sk: Uint8Array, input: Uint8Array): Uint8Array };

function fakeRelay(opts: { publish: 'same' | 'other' | 'none' }) {
  const issuing = voprf.generateKeyPair();
  const other = voprf.generateKeyPair();
  const keyId = 'k1';
  const published: TokenKeyInfo[] =
    opts.publish === 'none' ? [] : [{ keyId, publicKey: opts.publish === 'same' ? issuing.publicKey : other.publicKey, issuing: true, acceptUntil: 2 ** 40 }];
  const api = {
    tokenKeys: async () => published,
    issueTokens: async (_session: string, blinded: Uint8Array[]) => {
      const r = voprf.blindEvaluateBatch(issuing.secretKey, issuing.publicKey, blinded);
      return { keyId, evaluated: r.evaluated, proof: r.proof };
    },
  } as unknown as RelayApi;
  return { api, issuing };
}

function memoryStore(): TokenStore & { map: Map<string, StoredToken> } {
  const map = new Map<string, StoredToken>();
  return {
    map,
    loadAll: async () => new Map(map),
    add: async (t) => {
      for (const [k, v] of t) map.set(k, v);
    },
    remove: async (k) => {
      map.delete(k);
    },
  };
}

describe('token wallet', () => {
  it('issues tokens whose outputs are the relay key’s PRF of the input (what the relay checks at spending)', async () => {
    const { api, issuing } = fakeRelay({ publish: 'same' });
    const store = memoryStore();
    const w = await TokenWallet.open(() => api, store, () => 'session', { batch: 5, low: 2 });
    await w.issue(5);
    expect(await w.count()).toBe(5);
    expect(store.map.size).toBe(5);
    const t = await w.take();
    const input = Uint8Array.from(Buffer.from(t.input, 'base64url'));
    expect(t.output).toBe(toB64(voprf.evaluate(issuing.secretKey, input)));
    expect(await w.count()).toBe(4);
    expect(store.map.size).toBe(4);
    // Reopening from the store gives the same supply.
    expect(await (await TokenWallet.open(() => api, store, () => 'session')).count()).toBe(4);
  });

  it('opening the wallet reads no token; the first take reads them all, and keeps those issued meanwhile', async () => {
    const { api } = fakeRelay({ publish: 'same' });
    const store = memoryStore();
    await (await TokenWallet.open(() => api, store, () => 'session')).issue(3);
    const loads = vi.spyOn(store, 'loadAll');
    const w = await TokenWallet.open(() => api, store, () => 'session', { batch: 2, low: 0 });
    expect(loads).not.toHaveBeenCalled();
    await w.issue(2);
    expect(await w.count()).toBe(5);
    await w.take();
    expect(loads).toHaveBeenCalledTimes(1);
    expect(await w.count()).toBe(4);
    expect(store.map.size).toBe(4);
  });

  it('many takers meeting an empty wallet share one batch each time, not one request each (the relay limits requests per minute)', async () => {
    const { api } = fakeRelay({ publish: 'same' });
    let requests = 0;
    const counting = { ...api, issueTokens: async (session: string, blinded: Uint8Array[]) => (requests++, api.issueTokens(session, blinded)) } as unknown as RelayApi;
    const w = await TokenWallet.open(() => counting, memoryStore(), () => 'session', { batch: 10, low: 0 });
    const taken = await Promise.all(Array.from({ length: 25 }, () => w.take()));
    expect(new Set(taken.map((t) => t.input)).size).toBe(25);
    expect(requests).toBe(3);
  });

  it('refuses a proof that does not verify under the published key (a per-account key would link spends)', async () => {
    const { api } = fakeRelay({ publish: 'other' });
    const w = await TokenWallet.open(() => api, memoryStore(), () => 'session');
    await expect(w.issue(3)).rejects.toMatchObject({ name: 'TokenError', code: 'bad-proof' });
    expect(await w.count()).toBe(0);
  });

  it('refuses tokens issued under a key the relay does not publish', async () => {
    const { api } = fakeRelay({ publish: 'none' });
    const w = await TokenWallet.open(() => api, memoryStore(), () => 'session');
    await expect(w.issue(3)).rejects.toMatchObject({ code: 'unknown-key' });
  });

  it('needs a session to issue, drops expired tokens, and replaces a token the relay says is spent', async () => {
    const { api } = fakeRelay({ publish: 'same' });
    const store = memoryStore();
    const auth: { session?: string } = {};
    const w = await TokenWallet.open(() => api, store, () => auth.session, { batch: 3 });
    await expect(w.issue(1)).rejects.toBeInstanceOf(TokenError);
    auth.session = 's';
    await w.issue(3);
    store.map.set('old', { token: { keyId: 'k0', input: 'x', output: 'y' }, acceptUntil: 1 });
    const w2 = await TokenWallet.open(() => api, store, () => auth.session, { batch: 3 });
    const used: string[] = [];
    const r = await w2.spend(async (t) => {
      used.push(t.input);
      if (used.length === 1) throw new RelayApiError(409, 'token_spent', 'spent');
      return 'ok';
    });
    expect(r).toBe('ok');
    expect(used).toHaveLength(2);
    expect(used).not.toContain('x');
    expect(store.map.has('old')).toBe(false);
  });
});
