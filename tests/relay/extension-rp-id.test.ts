// Passkeys scoped to the extension itself: a relay with no extension-specific
// configuration accepts an allowed extension's own RP ID (its id, or its origin
// as Chromium hashes it) for ceremonies from that same origin, and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { createCredential, getAssertion } from './support/soft-authenticator.ts';

const EXT_ID = 'abcdefghijklmnopabcdefghijklmnop';
const EXT = `chrome-extension://${EXT_ID}`;
const OTHER = 'chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba';

describe('extension-scoped passkeys', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });

  const post = async (path: string, body: unknown, origin: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(relay.url + path, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  for (const rpId of [EXT_ID, EXT]) {
    it(`registers and logs in with RP ID ${rpId === EXT ? 'origin' : 'id'} from that extension`, async () => {
      const start = await post('/v1/accounts/register/start', { rpId }, EXT);
      const options = start.body.options as { challenge: string; rp: { id: string }; user: { id: string } };
      expect(options.rp.id).toBe(rpId);
      const { credential, response } = await createCredential({ rpId, origin: EXT, challenge: options.challenge, userId: options.user.id });
      const fin = await post('/v1/accounts/register/finish', { ceremonyId: start.body.ceremonyId, response }, EXT);
      expect(fin.status).toBe(200);

      const login = await post('/v1/sessions/start', { rpId }, EXT);
      const assertion = await getAssertion(credential, { origin: EXT, challenge: (login.body.options as { challenge: string }).challenge });
      expect((await post('/v1/sessions/finish', { ceremonyId: login.body.ceremonyId, response: assertion }, EXT)).status).toBe(200);
    });
  }

  it("does not hand one extension's RP ID to another origin", async () => {
    const start = await post('/v1/accounts/register/start', { rpId: EXT_ID }, OTHER);
    expect((start.body.options as { rp: { id: string } }).rp.id).not.toBe(EXT_ID);
  });

  it("rejects a credential scoped to another extension's RP ID", async () => {
    const start = await post('/v1/accounts/register/start', {}, OTHER);
    const options = start.body.options as { challenge: string; user: { id: string } };
    // The response claims OTHER's origin but carries an rpIdHash for EXT.
    const { response } = await createCredential({ rpId: EXT_ID, origin: OTHER, challenge: options.challenge, userId: options.user.id });
    const fin = await post('/v1/accounts/register/finish', { ceremonyId: start.body.ceremonyId, response }, OTHER);
    expect(fin.status).toBe(400);
    expect((fin.body.error as { code: string }).code).toBe('ceremony_failed');
  });
});
