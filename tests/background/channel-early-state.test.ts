/**
 * The view channel while a woken worker's full background is still loading
 * (channel-server.ts, `early`): the state kept for a wake answers `state.get`
 * and is a live view's first state; everything else asks for the backend and
 * waits for it; once the backend is ready, the kept state is never used again.
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL, LIVE_PORT_NAME, type AppState, type LiveEvent, type ResponseMessage } from '../../lib/protocol/channel.ts';
import { serveChannel, type ChannelBackend, type SenderLike } from '../../lib/background/channel-server.ts';
import { EXTENSION_ID, EXTENSION_ORIGIN, fakeRuntime } from '../support/fake-runtime.ts';

const ID = EXTENSION_ID;
const ORIGIN = EXTENSION_ORIGIN;
const PANEL: SenderLike = { id: ID, url: `${ORIGIN}sidepanel.html` };
const KEPT = { version: 'kept' } as AppState;
const LIVE = { version: 'live' } as AppState;

function setUp(keptState: AppState | undefined) {
  const { runtime, message, connect: connectPort } = fakeRuntime();
  const handled: unknown[] = [];
  const backend: ChannelBackend = {
    handle: async (raw) => {
      handled.push(raw);
      return { ok: true, result: (raw as { method: string }).method === 'state.get' ? LIVE : 'from the backend' };
    },
    snapshot: LIVE,
    subscribe: () => () => undefined,
  };
  let startBackend!: () => void;
  const ready = new Promise<ChannelBackend>((resolve) => (startBackend = () => resolve(backend)));
  let needs = 0;
  serveChannel(runtime, ready, { state: Promise.resolve(keptState), needed: () => void needs++ });
  const ask = (method: string, params: unknown = null, sender: SenderLike = PANEL) =>
    message({ channel: CHANNEL, method, params }, sender) as Promise<ResponseMessage<unknown>> | undefined;
  const connect = () => {
    const posted: LiveEvent[] = [];
    connectPort({ name: LIVE_PORT_NAME, sender: PANEL, postMessage: (m) => posted.push(m as LiveEvent), disconnect: () => undefined, onDisconnect: { addListener: () => undefined } });
    return posted;
  };
  return { ask, connect, startBackend, handled, needs: () => needs };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the view channel before the full background is ready', () => {
  it('answers state.get from the kept state, without asking for the backend', async () => {
    const s = setUp(KEPT);
    expect(await s.ask('state.get')).toEqual({ ok: true, result: KEPT });
    expect(s.needs()).toBe(0);
    expect(s.handled).toEqual([]);
  });

  it('asks for the backend for anything else, and answers it once the backend is ready', async () => {
    const s = setUp(KEPT);
    let answer: unknown;
    void s.ask('messages.page', { conversationId: 'c1', beforeSeq: null, limit: 50 })!.then((a) => (answer = a));
    await tick();
    expect(s.needs()).toBe(1);
    expect(answer).toBeUndefined();
    s.startBackend();
    await tick();
    expect(answer).toEqual({ ok: true, result: 'from the backend' });
  });

  it('without a kept state, state.get waits for the backend', async () => {
    const s = setUp(undefined);
    let answer: unknown;
    void s.ask('state.get')!.then((a) => (answer = a));
    await tick();
    expect(answer).toBeUndefined();
    expect(s.needs()).toBe(1);
    s.startBackend();
    await tick();
    expect(answer).toEqual({ ok: true, result: LIVE });
  });

  it('once the backend is ready, state.get is its own, never the kept one', async () => {
    const s = setUp(KEPT);
    s.startBackend();
    await tick();
    expect(await s.ask('state.get')).toEqual({ ok: true, result: LIVE });
  });

  it('a live view is sent the kept state first, then the backend’s; one connecting later only the backend’s', async () => {
    const s = setUp(KEPT);
    const early = s.connect();
    await tick();
    expect(early).toEqual([{ type: 'state', state: KEPT }]);
    s.startBackend();
    await tick();
    expect(early).toEqual([
      { type: 'state', state: KEPT },
      { type: 'state', state: LIVE },
    ]);
    const late = s.connect();
    await tick();
    expect(late).toEqual([{ type: 'state', state: LIVE }]);
  });

  it('never answers a content script, another extension or a web page, not even from the kept state', async () => {
    const s = setUp(KEPT);
    expect(s.ask('state.get', null, { id: ID, url: 'https://evil.test/' })).toBeUndefined();
    expect(s.ask('state.get', null, { id: 'another-extension', url: `${ORIGIN}sidepanel.html` })).toBeUndefined();
    expect(s.needs()).toBe(0);
  });

  it('a malformed state.get is not answered from the kept state: the backend refuses it', async () => {
    const s = setUp(KEPT);
    const answer = s.ask('state.get', { extra: true })!;
    await tick();
    expect(s.needs()).toBe(1);
    s.startBackend();
    await answer;
    expect(s.handled).toEqual([{ channel: CHANNEL, method: 'state.get', params: { extra: true } }]);
  });
});
