import { describe, expect, it } from 'vitest';
import { RelayApi, withoutClientSecrets } from '../../lib/background/relay-api.ts';

describe('WebAuthn responses sent to the relay', () => {
  const response = {
    id: 'cred',
    rawId: 'cred',
    type: 'public-key',
    response: { clientDataJSON: 'x', attestationObject: 'y' },
    clientExtensionResults: { prf: { enabled: true, results: { first: 'UFJGLW91dHB1dC1zZWNyZXQ' } }, credProps: { rk: true } },
  };

  it('drops the client extension results (the PRF output is the lock key material)', () => {
    const cleaned = withoutClientSecrets(response) as Record<string, unknown>;
    expect(cleaned.clientExtensionResults).toEqual({});
    expect(cleaned.response).toEqual(response.response);
    expect(response.clientExtensionResults.prf.results.first).toBe('UFJGLW91dHB1dC1zZWNyZXQ'); // input untouched
  });

  it('never puts the PRF output on the wire for registration or login', async () => {
    const bodies: string[] = [];
    const fakeFetch = (async (_url: string, init?: RequestInit) => {
      bodies.push(String(init?.body ?? ''));
      return new Response(JSON.stringify({ error: { code: 'ceremony_failed', message: 'no' } }), { status: 400 });
    }) as unknown as typeof fetch;
    const api = new RelayApi('http://127.0.0.1:1', { fetch: fakeFetch });
    await api.registrationFinish('c1', response).catch(() => undefined);
    await api.loginFinish('c2', response).catch(() => undefined);
    expect(bodies).toHaveLength(2);
    for (const b of bodies) expect(b).not.toContain('UFJGLW91dHB1dC1zZWNyZXQ');
  });
});
