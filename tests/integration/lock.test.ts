// The passkey lock (WebAuthn PRF) against a real relay: turned on at sign-up
// when the authenticator evaluates PRF, the data key rotates to a wrapped one,
// a restarted background is locked until the passkey's PRF output unwraps it,
// and unlocking also refreshes the relay session.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import WebSocket from 'ws';
import { BackgroundApp } from '../../lib/extension/background-app.ts';
import { openDatabase, saveSetting } from '../../lib/extension/db.ts';
import type { WebSocketConstructor } from '../../lib/extension/relay-api.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { b64u, createCredential, fromB64u, getAssertion, type SoftCredential } from '../relay/support/soft-authenticator.ts';
import { EXT_ORIGIN, waitUntil } from './support/device.ts';

const PRF_SECRET = 'authenticator-internal-prf-secret';
const prf = (salt: string): string => b64u(new Uint8Array(createHmac('sha256', PRF_SECRET).update(fromB64u(salt)).digest()));

interface Opts {
  challenge: string;
  rp?: { id: string };
  user?: { id: string };
  extensions?: { prf?: { eval?: { first?: string } } };
  allowCredentials?: { id: string }[];
}

describe('passkey lock (PRF)', () => {
  let relay: RelayProcess;
  const dbName = `lock-${process.pid}`;
  let credential: SoftCredential;
  let conv = '';

  const start = async (): Promise<BackgroundApp> => {
    const db = await openDatabase(dbName);
    await saveSetting(db, 'relayUrl', relay.url);
    return BackgroundApp.start({ db, version: 'test', WebSocket: WebSocket as unknown as WebSocketConstructor });
  };

  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('turns on at sign-up when the passkey evaluates PRF, rotating to a wrapped data key', async () => {
    const app = await start();
    const { options } = (await app.handlers['account.registrationOptions']({ displayName: 'Dana' })) as { options: Opts };
    const salt = options.extensions?.prf?.eval?.first;
    expect(salt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const made = await createCredential({ rpId: options.rp!.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user!.id });
    credential = made.credential;
    const response = { ...made.response, clientExtensionResults: { prf: { enabled: true, results: { first: prf(salt!) } } } };
    const state = await app.handlers['account.completeRegistration']({ displayName: 'Dana', response });
    expect(state.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true });
    await waitUntil(() => app.snapshot.connection === 'online', 10_000, 'online');
    ({ conversationId: conv } = await app.handlers['conversation.create']({ name: 'Locked notes' }));
    await app.handlers['message.send']({ conversationId: conv, text: 'secret note' });
    const db = await openDatabase(dbName);
    expect(await db.get('keys', 'device')).toBeUndefined();
    expect(await db.get('settings', 'wrapped')).toMatchObject({ v: 1, displayName: 'Dana' });
    app.stop();
  });

  it('a restarted background is locked; a wrong PRF is refused; the right passkey unlocks and restores everything', async () => {
    const app = await start();
    expect(app.snapshot.account).toEqual({ state: 'locked', displayName: 'Dana' });
    await expect(app.handlers['conversation.get']({ conversationId: conv })).rejects.toMatchObject({ code: 'locked' });

    const { options } = (await app.handlers['account.unlockOptions'](null)) as { options: Opts };
    const salt = options.extensions!.prf!.eval!.first!;
    expect(options.allowCredentials?.[0]?.id).toBe(b64u(credential.id));
    const wrong = { ...(await getAssertion(credential, { origin: EXT_ORIGIN, challenge: options.challenge })), clientExtensionResults: { prf: { results: { first: b64u(new Uint8Array(32).fill(9)) } } } };
    await expect(app.handlers['account.unlock']({ response: wrong })).rejects.toMatchObject({ code: 'invalid-input' });
    expect(app.snapshot.account.state).toBe('locked');

    const again = (await app.handlers['account.unlockOptions'](null)) as { options: Opts };
    const assertion = await getAssertion(credential, { origin: EXT_ORIGIN, challenge: again.options.challenge });
    const state = await app.handlers['account.unlock']({ response: { ...assertion, clientExtensionResults: { prf: { results: { first: prf(salt) } } } } });
    expect(state.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true });
    expect(state.conversations.map((c) => c.name)).toEqual(['Locked notes']);
    const page = await app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 10 });
    expect(page.messages.map((m) => m.text)).toContain('secret note');
    await waitUntil(() => app.snapshot.connection === 'online', 10_000, 'online after unlock');
    app.stop();
  });
});

describe('expired relay session', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    // Sessions shorter than the client's one-minute margin count as expired at once.
    relay = await startRelay({ args: ['--session-ttl-seconds', '30'] });
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('shows the lock screen to sign in again; the chat keeps working meanwhile; the passkey renews the session', async () => {
    const db = await openDatabase(`expired-${process.pid}`);
    await saveSetting(db, 'relayUrl', relay.url);
    const app = await BackgroundApp.start({ db, version: 'test', WebSocket: WebSocket as unknown as WebSocketConstructor });
    const { options } = (await app.handlers['account.registrationOptions']({ displayName: 'Eve' })) as { options: Opts };
    const made = await createCredential({ rpId: options.rp!.id, origin: EXT_ORIGIN, challenge: options.challenge, userId: options.user!.id });
    const state = await app.handlers['account.completeRegistration']({ displayName: 'Eve', response: made.response });
    expect(state.account).toEqual({ state: 'locked', displayName: 'Eve' });
    // Not blocked: tokens already in the wallet still pay for a conversation.
    const { conversationId } = await app.handlers['conversation.create']({ name: 'Still works' });
    expect(conversationId).toMatch(/\S/);

    const { options: login } = (await app.handlers['account.unlockOptions'](null)) as { options: Opts };
    expect(login.allowCredentials?.[0]?.id).toBe(b64u(made.credential.id));
    expect(login.extensions).toBeUndefined();
    const assertion = await getAssertion(made.credential, { origin: EXT_ORIGIN, challenge: login.challenge });
    const after = await app.handlers['account.unlock']({ response: assertion });
    expect(after.account).toEqual({ state: 'ready', displayName: 'Eve', lockEnabled: false });
    app.stop();
  });
});

