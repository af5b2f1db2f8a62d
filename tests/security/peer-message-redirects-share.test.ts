/**
 * Attack: a member redirects someone's "share this page". Sharing used to
 * post at once into whichever conversation was active last, so Mallory, by
 * sending a message in her conversation with Alice just before Alice shares,
 * received a page (and its possibly private URL) meant for another one.
 *
 * Defence (share-offer.ts): the click only makes an offer; the suggested
 * conversation is fixed when it is made; nothing is sent until Alice confirms
 * one conversation by id, and a cancelled offer sends nothing at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { startDevice, waitUntil, withInviteStandIn, type Device } from '../integration/support/device.ts';

const URL_1 = 'https://docs.example.org/private/plan?key=s3cret';
const URL_2 = 'https://docs.example.org/private/other';

describe('a peer message does not redirect a share', () => {
  let relay: RelayProcess;
  let alice: Device;
  let mallory: Device;
  let family = '';
  let work = '';

  const texts = async (d: Device, conversationId: string): Promise<string[]> =>
    (await d.app.handlers['messages.page']({ conversationId, beforeSeq: null, limit: 100 })).messages.map((m) => m.text);

  beforeAll(async () => {
    relay = await startRelay();
    const { fetch } = await withInviteStandIn(relay.url);
    [alice, mallory] = (await Promise.all([startDevice(relay.url, 'Alice', { fetch }), startDevice(relay.url, 'Mallory', { fetch })])) as [Device, Device];
    await waitUntil(() => [alice, mallory].every((d) => d.app.snapshot.connection === 'online'), 15_000, 'online');
    ({ conversationId: work } = await alice.app.handlers['conversation.create']({ name: 'Work' }));
    const invite = await alice.app.handlers['invite.create']({ conversationId: work, mode: 'one-time' });
    await mallory.app.handlers['invite.join']({ link: invite.link });
    ({ conversationId: family } = await alice.app.handlers['conversation.create']({ name: 'Family' }));
    await alice.app.handlers['message.send']({ conversationId: family, text: 'dinner at 8' });
  }, 60_000);

  afterAll(async () => {
    for (const d of [alice, mallory]) d?.app.stop();
    await relay?.stop();
  });

  it('Mallory’s message after the offer moves neither the suggestion nor the send', async () => {
    expect(alice.app.offerShare('Plan', URL_1)).toBe(true);
    const offer = alice.app.snapshot.share!;
    expect(offer.suggestedId).toBe(family);

    await mallory.app.handlers['message.send']({ conversationId: work, text: 'look here' });
    await waitUntil(() => alice.received(work).includes('look here'), 10_000, 'Mallory’s message reaches Alice');
    expect(alice.app.snapshot.conversations[0]!.id).toBe(work); // Work is now the most recent...
    expect(alice.app.snapshot.share?.suggestedId).toBe(family); // ...but the share still suggests Family
    // Nothing went anywhere before the confirm.
    expect((await texts(alice, work)).some((t) => t.includes(URL_1))).toBe(false);
    expect((await texts(alice, family)).some((t) => t.includes(URL_1))).toBe(false);

    await alice.app.handlers['share.send']({ shareId: offer.shareId, conversationId: family });
    expect((await texts(alice, family)).at(-1)).toBe(`Plan\n${URL_1}`);
    // A second confirm of the same offer (a double click, a replay) sends nothing more.
    await expect(alice.app.handlers['share.send']({ shareId: offer.shareId, conversationId: work })).rejects.toMatchObject({ code: 'not-found' });

    await alice.app.handlers['message.send']({ conversationId: work, text: 'marker' });
    await waitUntil(() => mallory.received(work).includes('marker'), 10_000, 'a later message reaches Mallory');
    expect(mallory.received(work).some((t) => t.includes(URL_1))).toBe(false);
  });

  it('a cancelled share sends nothing, and a stale offer id cannot be confirmed', async () => {
    expect(alice.app.offerShare('', URL_2)).toBe(true);
    const offer = alice.app.snapshot.share!;
    await alice.app.handlers['share.cancel']({ shareId: offer.shareId });
    expect(alice.app.snapshot.share).toBeUndefined();
    await expect(alice.app.handlers['share.send']({ shareId: offer.shareId, conversationId: work })).rejects.toMatchObject({ code: 'not-found' });
    for (const c of [work, family]) expect((await texts(alice, c)).some((t) => t.includes(URL_2))).toBe(false);

    await alice.app.handlers['message.send']({ conversationId: work, text: 'marker 2' });
    await waitUntil(() => mallory.received(work).includes('marker 2'), 10_000, 'a later message reaches Mallory');
    expect(mallory.received(work).some((t) => t.includes(URL_2))).toBe(false);
  });
});
