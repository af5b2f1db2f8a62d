// Attack: a curious relay learns who its users are from the passkey
// ceremony. WebAuthn creation options carry user.name and user.displayName;
// if the client sent its display name as the user name, the relay would see
// (and could log) it next to the new account id. The real background signs up
// against a real relay process; every request it sends is recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_HANDLE } from '../../relay/accounts.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, type Device } from '../integration/support/device.ts';

const NAME = 'Wilhelmina Fairweather';

describe('the passkey ceremony reveals no display name to the relay', () => {
  let relay: RelayProcess;
  let device: Device;
  const sent: { url: string; body: string }[] = [];
  const answered: { url: string; body: string }[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    const recording: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      sent.push({ url, body: typeof init?.body === 'string' ? init.body : '' });
      const res = await fetch(input, init);
      answered.push({ url, body: await res.clone().text() });
      return res;
    };
    device = await startDevice(relay.url, NAME, { fetch: recording, WebSocket: false });
  });

  afterAll(async () => {
    device?.app.stop();
    await relay?.stop();
  });

  it('signs up without sending the display name, and the passkey is a generic account at the relay', () => {
    expect(device.app.snapshot.account).toMatchObject({ state: 'ready', displayName: NAME });
    const start = sent.filter((r) => r.url.endsWith('/v1/accounts/register/start'));
    expect(start).toHaveLength(1);
    for (const r of sent) {
      expect(r.body.includes(NAME), `${r.url} carries the display name`).toBe(false);
      expect(r.body.includes('Fairweather'), `${r.url} carries part of it`).toBe(false);
    }
    const options = JSON.parse(answered.find((r) => r.url.endsWith('/v1/accounts/register/start'))!.body) as {
      options: { user: { name: string; displayName: string } };
    };
    expect(options.options.user.name).toBe(ACCOUNT_HANDLE);
    expect(options.options.user.displayName).toBe(ACCOUNT_HANDLE);
  });

  it('refuses an old client that sends a user name (bad_request naming the key, never the name), and logs nothing of it', async () => {
    const res = await fetch(`${relay.url}/v1/accounts/register/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userName: NAME }),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect((JSON.parse(text) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('userName') });
    expect(text.includes(NAME)).toBe(false);
    expect(relay.stderr().includes(NAME)).toBe(false);
  });
});
