// Attack: a page the relay serves (or any web page, through a content script
// running in it) asks the background for an open invite's code, now that the
// background hands codes out again for "copy again" (issue 17, item 14). The
// code carries the invite's key: with it, the relay could decrypt the GroupInfo
// it stores and join. Only our own extension pages may get it; every other
// sender gets no answer at all, and the handler never runs.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL } from '../../lib/protocol/channel.ts';
import { serveChannel, type PortLike, type RuntimeLike, type SenderLike } from '../../lib/background/channel-server.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

const ID = 'abcdefghijklmnopabcdefghijklmnop';
const ORIGIN = `chrome-extension://${ID}/`;

function fakeRuntime() {
  let onMessage: ((m: unknown, s: SenderLike) => Promise<unknown> | undefined) | undefined;
  const runtime: RuntimeLike = {
    id: ID,
    getURL: (p) => ORIGIN + p.replace(/^\//, ''),
    onMessage: { addListener: (fn) => void (onMessage = fn) },
    onConnect: { addListener: (_fn: (p: PortLike) => void) => undefined },
  };
  return { runtime, message: (m: unknown, s: SenderLike) => onMessage!(m, s) };
}

describe('a web page asks the background for an invite code', () => {
  let relay: RelayProcess;
  let alice: Device;
  let conversationId = '';
  let invite: { link: string; inviteId: string };

  beforeAll(async () => {
    relay = await startRelay();
    alice = await startDevice(relay.url, 'Alice');
    await waitUntil(() => alice.app.snapshot.connection === 'online', 15_000, 'online');
    ({ conversationId } = await alice.app.handlers['conversation.create']({ name: 'Private' }));
    invite = await alice.app.handlers['invite.create']({ conversationId, mode: 'expiring', expiresInHours: 168 });
  });

  afterAll(async () => {
    alice?.app.stop();
    await relay?.stop();
  });

  it('gets no answer from a relay page, another extension or a sender without a page; our side panel gets the code', async () => {
    const { runtime, message } = fakeRuntime();
    const link = vi.spyOn(alice.app.handlers, 'invite.link');
    const list = vi.spyOn(alice.app.handlers, 'invite.list');
    serveChannel(runtime, Promise.resolve(alice.app));
    const ask = { channel: CHANNEL, method: 'invite.link', params: { conversationId, inviteId: invite.inviteId } };
    const listAsk = { channel: CHANNEL, method: 'invite.list', params: { conversationId } };
    const strangers: SenderLike[] = [
      { id: ID, url: `${relay.url}/join` }, // a content script in a page the relay serves
      { id: ID, url: 'https://evil.test/' },
      { id: 'otherextensionidotherextensionid', url: 'chrome-extension://otherextensionidotherextensionid/page.html' },
      { id: ID },
      {},
    ];
    for (const sender of strangers) {
      expect(message(ask, sender)).toBeUndefined();
      expect(message(listAsk, sender)).toBeUndefined();
    }
    expect(link).not.toHaveBeenCalled();
    expect(list).not.toHaveBeenCalled();

    const ours = await message(ask, { id: ID, url: `${ORIGIN}sidepanel.html` });
    expect(ours).toEqual({ ok: true, result: { link: invite.link } });
    expect(link).toHaveBeenCalledTimes(1);
  });
});
