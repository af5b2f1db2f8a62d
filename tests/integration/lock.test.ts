// The lock against a real relay: turned on at sign-up when the authenticator
// evaluates PRF, the data key rotates to a wrapped one, a restarted background
// is locked until the passkey's PRF output unwraps it, and unlocking also
// refreshes the relay session. Later it is turned off and on again from
// settings, with the passkey or a passphrase, while the chat keeps running.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import WebSocket from 'ws';
import { BackgroundApp } from '../../lib/background/background-app.ts';
import { openDatabase, saveSetting } from '../../lib/background/db.ts';
import type { WebSocketConstructor } from '../../lib/background/relay-api.ts';
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
    return BackgroundApp.start({ db, version: 'test', WebSocket: WebSocket as unknown as WebSocketConstructor, passphraseKdf: { m: 256, t: 1, p: 1 } });
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
    expect(state.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true, lockMethod: 'passkey' });
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
    expect(state.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true, lockMethod: 'passkey' });
    expect(state.conversations.map((c) => c.name)).toEqual(['Locked notes']);
    const page = await app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 10 });
    expect(page.messages.map((m) => m.text)).toContain('secret note');
    await waitUntil(() => app.snapshot.connection === 'online', 10_000, 'online after unlock');
    app.stop();
  });
  const unlocked = async (): Promise<BackgroundApp> => {
    const app = await start();
    const { options } = (await app.handlers['account.unlockOptions'](null)) as { options: Opts };
    const assertion = await getAssertion(credential, { origin: EXT_ORIGIN, challenge: options.challenge });
    const first = prf(options.extensions!.prf!.eval!.first!);
    await app.handlers['account.unlock']({ response: { ...assertion, clientExtensionResults: { prf: { results: { first } } } } });
    return app;
  };

  it('turns the lock off and on again from settings while the chat runs; a passphrase replaces the passkey', async () => {
    let app = await unlocked();
    await waitUntil(() => app.snapshot.connection === 'online', 10_000, 'online');
    // Off: a fresh device key, the wrapped one deleted; a message sent at the same time is kept.
    const [off] = await Promise.all([app.handlers['lock.disable'](null), app.handlers['message.send']({ conversationId: conv, text: 'sent while rotating' })]);
    expect(off.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: false });
    const db = await openDatabase(dbName);
    expect(await db.get('settings', 'wrapped')).toBeUndefined();
    expect(await db.getAllKeys('keys')).toEqual(['device']);
    app.stop();

    app = await start();
    expect(app.snapshot.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: false });
    // On again with the passkey: a relay login ceremony (its RP ID is the passkey's) that also asks for the PRF.
    const { options } = (await app.handlers['lock.enableOptions'](null)) as { options: Opts & { rpId?: string } };
    expect(options.allowCredentials?.[0]?.id).toBe(b64u(credential.id));
    expect(options.rpId).toBe(credential.rpId);
    const assertion = await getAssertion(credential, { origin: EXT_ORIGIN, challenge: options.challenge });
    const noPrf = { ...assertion, clientExtensionResults: {} };
    await expect(app.handlers['lock.enable']({ response: noPrf })).rejects.toThrow(/no PRF support/);
    // Each ceremony is good for one try.
    await expect(app.handlers['lock.enable']({ response: noPrf })).rejects.toMatchObject({ code: 'bad-request' });
    const again = (await app.handlers['lock.enableOptions'](null)) as { options: Opts };
    const withPrfOutput = { ...assertion, clientExtensionResults: { prf: { results: { first: prf(again.options.extensions!.prf!.eval!.first!) } } } };
    const on = await app.handlers['lock.enable']({ response: withPrfOutput });
    expect(on.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true, lockMethod: 'passkey' });
    expect(await db.getAllKeys('keys')).toEqual([]);
    app.stop();

    // Restarted: locked; the passkey unlocks everything, including what was sent during the first rotation.
    app = await unlocked();
    expect(app.snapshot.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true, lockMethod: 'passkey' });
    // Switch to a passphrase: off, then on with the passphrase.
    await app.handlers['lock.disable'](null);
    await expect(app.handlers['lock.enable']({ passphrase: 'short' })).rejects.toMatchObject({ code: 'invalid-input' });
    expect((await app.handlers['lock.enable']({ passphrase: 'dana keeps a passphrase' })).account).toMatchObject({ lockMethod: 'passphrase' });
    app.stop();

    app = await start();
    expect(app.snapshot.account).toEqual({ state: 'locked', displayName: 'Dana', unlockWith: 'passphrase' });
    await expect(app.handlers['account.unlockOptions'](null)).rejects.toMatchObject({ code: 'bad-request' });
    await expect(app.handlers['account.unlockPassphrase']({ passphrase: 'not dana' })).rejects.toMatchObject({ code: 'invalid-input' });
    const state = await app.handlers['account.unlockPassphrase']({ passphrase: 'dana keeps a passphrase' });
    expect(state.account).toEqual({ state: 'ready', displayName: 'Dana', lockEnabled: true, lockMethod: 'passphrase' });
    const page = await app.handlers['messages.page']({ conversationId: conv, beforeSeq: null, limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(expect.arrayContaining(['secret note', 'sent while rotating']));
    await waitUntil(() => app.snapshot.connection === 'online', 10_000, 'online after the passphrase');
    await app.handlers['message.send']({ conversationId: conv, text: 'after the passphrase' });
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

