/**
 * The view ↔ background channel: strict request parsing, typed errors, and
 * refusal of anything that is not one of our own extension pages.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { CHANNEL, LIVE_PORT_NAME, parseRequest, type AppState } from '../../lib/protocol/channel.ts';
import { dispatch, isOwnExtensionPage, serveChannel } from '../../lib/background/channel-server.ts';
import { EXTENSION_ID, EXTENSION_ORIGIN, fakeRuntime } from '../support/fake-runtime.ts';
import { BackgroundApp } from '../../lib/background/background-app.ts';
import { openDatabase } from '../../lib/background/db.ts';

const ID = EXTENSION_ID;
const ORIGIN = EXTENSION_ORIGIN;

function okFetch(): typeof fetch {
  return vi.fn(async () => new Response(JSON.stringify({ ok: true }), { status: 200 })) as unknown as typeof fetch;
}

async function newApp(fetchImpl: typeof fetch = okFetch()) {
  const db = await openDatabase(`test-${Math.random()}`);
  return BackgroundApp.start({ db, version: '9.9.9', fetch: fetchImpl });
}

describe('parseRequest', () => {
  it('accepts exactly our requests', () => {
    expect(parseRequest({ channel: CHANNEL, method: 'state.get', params: null }).method).toBe('state.get');
    expect(parseRequest({ channel: CHANNEL, method: 'settings.setRelayUrl', params: { url: 'x' } }).params).toEqual({ url: 'x' });
    expect(parseRequest({ channel: CHANNEL, method: 'messages.page', params: { conversationId: 'c_1-x', beforeSeq: null, limit: 50 } }).params).toEqual({
      conversationId: 'c_1-x',
      beforeSeq: null,
      limit: 50,
    });
  });

  it('takes the lock intents in exactly their shapes: a ceremony response or a passphrase, never both', () => {
    const req = (method: string, params: unknown) => parseRequest({ channel: CHANNEL, method, params });
    expect(req('lock.enable', { passphrase: 'pass phrase' }).params).toEqual({ passphrase: 'pass phrase' });
    expect(req('lock.enable', { response: { id: 'c' } }).params).toEqual({ response: { id: 'c' } });
    expect(req('lock.disable', null).method).toBe('lock.disable');
    expect(req('account.unlockPassphrase', { passphrase: 'x' }).params).toEqual({ passphrase: 'x' });
    expect(() => req('lock.enable', { passphrase: 'p', response: {} })).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(() => req('lock.enable', { passphrase: 7 })).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(() => req('lock.enable', {})).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(() => req('lock.disable', { now: true })).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(() => req('account.unlockPassphrase', { passphrase: 'x'.repeat(1025) })).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
  });

  it('rejects over-long text as invalid input the person can fix', () => {
    const text = 'x'.repeat(4001);
    expect(() => parseRequest({ channel: CHANNEL, method: 'message.send', params: { conversationId: 'c1', text } })).toThrowError(
      expect.objectContaining({ code: 'invalid-input' }),
    );
  });

  it.each([
    null,
    'state.get',
    { method: 'state.get', params: null },
    { channel: 'other', method: 'state.get', params: null },
    { channel: CHANNEL, method: 'keys.export', params: null },
    { channel: CHANNEL, method: 'state.get', params: {} },
    { channel: CHANNEL, method: 'settings.setRelayUrl', params: { url: 1 } },
    { channel: CHANNEL, method: 'settings.setRelayUrl', params: { url: 'x', extra: true } },
    { channel: CHANNEL, method: '__proto__', params: null },
    { channel: CHANNEL, method: 'toString', params: null },
    { channel: CHANNEL, method: 'messages.page', params: { conversationId: 'c1', beforeSeq: -1, limit: 10 } },
    { channel: CHANNEL, method: 'messages.page', params: { conversationId: 'c1', beforeSeq: null, limit: 100000 } },
    { channel: CHANNEL, method: 'conversation.get', params: { conversationId: '../x' } },
    { channel: CHANNEL, method: 'invite.create', params: { conversationId: 'c1', mode: 'forever', expiresInHours: 24 } },
    { channel: CHANNEL, method: 'account.unlock', params: { response: 'x' } },
  ])('rejects %j as bad-request', (raw) => {
    expect(() => parseRequest(raw)).toThrowError(expect.objectContaining({ code: 'bad-request' }));
  });
});

describe('sender check', () => {
  const runtime = { id: ID, getURL: (p: string) => ORIGIN + p.replace(/^\//, '') };
  it('accepts our extension pages only', () => {
    expect(isOwnExtensionPage(runtime, { id: ID, url: `${ORIGIN}sidepanel.html` })).toBe(true);
    expect(isOwnExtensionPage(runtime, { id: ID, url: 'https://example.com/' })).toBe(false); // a content script
    expect(isOwnExtensionPage(runtime, { id: 'other', url: `${ORIGIN}sidepanel.html` })).toBe(false);
    expect(isOwnExtensionPage(runtime, { id: ID })).toBe(false);
    expect(isOwnExtensionPage(runtime, undefined)).toBe(false);
  });
});

describe('background channel', () => {
  it('answers requests from the side panel with typed results', async () => {
    const app = await newApp();
    const { runtime, message } = fakeRuntime();
    serveChannel(runtime, Promise.resolve(app));
    const res = await message({ channel: CHANNEL, method: 'state.get', params: null }, { id: ID, url: `${ORIGIN}sidepanel.html` });
    expect(res).toMatchObject({ ok: true, result: { version: '9.9.9', relay: { url: 'http://127.0.0.1:8787', state: 'unknown' }, account: { state: 'none' } } });
  });

  it('ignores messages from content scripts and web pages', async () => {
    const app = await newApp();
    const { runtime, message } = fakeRuntime();
    serveChannel(runtime, Promise.resolve(app));
    expect(message({ channel: CHANNEL, method: 'state.get', params: null }, { id: ID, url: 'https://evil.test/' })).toBeUndefined();
  });

  it('turns invalid input into a typed error and keeps state', async () => {
    const app = await newApp();
    const before = app.snapshot;
    const res = await dispatch(app.handlers, { channel: CHANNEL, method: 'settings.setRelayUrl', params: { url: 'http://evil.test' } });
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(app.snapshot).toEqual(before);
  });

  it('hides unexpected failures behind a plain internal error', async () => {
    const app = await newApp();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handlers = { ...app.handlers, 'state.get': async () => Promise.reject(new Error('secret detail')) };
    const res = await dispatch(handlers, { channel: CHANNEL, method: 'state.get', params: null });
    expect(res).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(JSON.stringify(res)).not.toContain('secret detail');
  });

  it('pushes state to live subscribers and persists the relay URL', async () => {
    const fetchImpl = okFetch();
    const db = await openDatabase(`test-${Math.random()}`);
    const app = await BackgroundApp.start({ db, version: '1', fetch: fetchImpl });
    const { runtime, connect } = fakeRuntime();
    serveChannel(runtime, Promise.resolve(app));

    const seen: AppState[] = [];
    let disconnect: (() => void) | undefined;
    connect({
      name: LIVE_PORT_NAME,
      sender: { id: ID, url: `${ORIGIN}sidepanel.html` },
      postMessage: (m) => seen.push((m as { state: AppState }).state),
      disconnect: () => undefined,
      onDisconnect: { addListener: (fn) => void (disconnect = fn) },
    });
    await vi.waitFor(() => expect(seen).toHaveLength(1));

    await app.setRelayUrl('https://relay.example.org/');
    expect(fetchImpl).toHaveBeenCalledWith('https://relay.example.org/healthz', expect.anything());
    expect(seen.at(-1)?.relay).toMatchObject({ url: 'https://relay.example.org', state: 'reachable' });
    expect(seen.map((s) => s.relay.state)).toContain('checking');

    // A restarted background reads the saved URL back.
    const again = await BackgroundApp.start({ db, version: '1', fetch: fetchImpl });
    expect(again.snapshot.relay.url).toBe('https://relay.example.org');

    disconnect!();
    const count = seen.length;
    await app.checkRelay();
    expect(seen).toHaveLength(count);
  });

  it('refuses live ports from outside the extension', async () => {
    const app = await newApp();
    const { runtime, connect } = fakeRuntime();
    serveChannel(runtime, Promise.resolve(app));
    const disconnect = vi.fn();
    connect({
      name: LIVE_PORT_NAME,
      sender: { id: ID, url: 'https://evil.test/' },
      postMessage: () => expect.unreachable(),
      disconnect,
      onDisconnect: { addListener: () => undefined },
    });
    expect(disconnect).toHaveBeenCalled();
  });

  it('reports an unreachable relay with a reason', async () => {
    const failing = vi.fn(async () => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    const app = await newApp(failing);
    const status = await app.checkRelay();
    expect(status).toMatchObject({ state: 'unreachable', detail: 'The relay could not be reached.' });
  });
});
