// The relay runs as a real Deno process and answers /healthz, with CORS for extension origins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

describe('relay process', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  it('answers GET /healthz with {ok:true}', async () => {
    const res = await fetch(`${relay.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('allows chrome-extension and moz-extension origins by CORS, not web pages', async () => {
    for (const origin of ['chrome-extension://abcdefghijklmnopabcdefghijklmnop', 'moz-extension://0b1c2d3e-1111-2222-3333-444455556666']) {
      const pre = await fetch(`${relay.url}/healthz`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      const res = await fetch(`${relay.url}/healthz`, { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const evil = await fetch(`${relay.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers unknown paths with the uniform typed not_found', async () => {
    const res = await fetch(`${relay.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'not found or not allowed' } });
  });

  it('restarts on the same port and data dir', async () => {
    relay.kill9();
    await relay.restart();
    const res = await fetch(`${relay.url}/healthz`);
    expect(res.status).toBe(200);
    expect(relay.url).toBe(`http://127.0.0.1:${relay.port}`);
  });
});

describe('relay graceful stop', () => {
  it('closes open WebSockets with 1001 and exits promptly on SIGTERM', async () => {
    const { WsClient } = await import('./support/client.ts');
    const relay = await startRelay();
    const ws = await WsClient.open(relay.url);
    const t0 = Date.now();
    await relay.stop();
    expect(await ws.closed).toBe(1001);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(relay.process.exitCode).toBe(0);
  });
});

describe('relay invite landing page', () => {
  it('is gone: /join is a 404 like any unknown path, so no relay page ever holds an invite code', async () => {
    const relay = await startRelay();
    try {
      const res = await fetch(`${relay.url}/join`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).not.toContain('text/html');
      expect(await res.text()).toEqual(await (await fetch(`${relay.url}/no-such-page`)).text());
    } finally {
      await relay.stop();
    }
  });
});
