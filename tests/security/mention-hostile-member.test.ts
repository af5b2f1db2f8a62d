/**
 * Attack: a hostile member crafts mentions (docs/search.md#mentions). Mallory's
 * modified client sends markdown texts with mention links of her own making:
 * of someone who is not a member, of Bob a thousand times (too long a text
 * to show), of Alice and Bob
 * sixty times, a link whose visible label says "@Alice" but names Bob, a label
 * with a right-to-left override that reads as another name, and "mentions"
 * whose link is another scheme (javascript:, https:). Alice and Bob have the
 * conversation muted, so only a mention of them may notify them.
 *
 * Defence (mentions.ts, M-1..M-4; notification-policy.ts; lib/view/linkify.ts):
 * only a link to one of our member URIs names anyone (M-1), and only a
 * current member; at most MAX_MENTIONS per text (M-2); "mentions you" is
 * decided by the receiving device from its own member ids (M-3), so a
 * label never notifies the person it names; a label with a bidi control is
 * no mention (M-4); a label that does not read as the member it links to is
 * no mention, for anyone (M-5). Anything else is shown as its plain markdown source, and
 * the view makes a link only of an http(s) URL whose visible text is the URL
 * itself. One text notifies at most once, and the conversation goes on.
 */
import { describe, expect, it } from 'vitest';
import { Cardinality, Disposition } from '../../lib/content/types.ts';
import { MENTION_CONTENT_TYPE } from '../../lib/background/mentions.ts';
import { senderUri } from '../../lib/background/mimi-wire.ts';
import { MAX_MENTIONS } from '../../lib/protocol/mentions.ts';
import type { MessageView } from '../../lib/protocol/channel.ts';
import { messageTokens } from '../../lib/view/mention-view.ts';
import { waitUntil, type Device } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW, content, marker, page, sendRaw } from './support/rich-attack.ts';

/** A markdown text as the mention form is sent, built by hand. */
const markdown = (text: string) =>
  content({ body: { disposition: Disposition.render, language: '', cardinality: Cardinality.single, contentType: MENTION_CONTENT_TYPE, content: new TextEncoder().encode(text) } });

describe('a member crafts mentions', () => {
  let devices: Device[];
  const s = withScenario({
    setup: async () => {
      devices = [s.alice, s.bob, s.mallory];
      for (const d of [s.alice, s.bob]) await d.app.handlers['conversation.mute']({ conversationId: s.conv, duration: 'always' });
    },
  });
  const shows = (d: Device): number => d.notified.filter((n) => n.kind === 'show' && n.conversationId === s.conv).length;
  const memberId = async (name: string): Promise<string> =>
    (await s.alice.app.handlers['conversation.get']({ conversationId: s.conv })).members.find((m) => m.displayName === name)!.memberId;

  it('notifies nobody but the real member named, at most once a text; shows plain text and no link that navigates; the conversation goes on', async () => {
    const alice = await memberId('Alice');
    const bob = await memberId('Bob');
    const stranger = 'Z'.repeat(22);
    const shownBefore = { alice: shows(s.alice), bob: shows(s.bob) };
    const sent: { text: string; body: string }[] = [
      { text: 'stranger', body: `hi [@Zed](${senderUri(stranger)})` },
      { text: 'thousand', body: Array.from({ length: 1000 }, () => `[@Bob](${senderUri(bob)})`).join(' ') },
      { text: 'sixty', body: Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? `[@Alice](${senderUri(alice)})` : `[@Bob](${senderUri(bob)})`)).join(' ') },
      { text: 'label', body: `pay [@Alice](${senderUri(bob)}) now` },
      { text: 'rtl', body: `ask [@\u202Eecila](${senderUri(alice)}) first` },
      { text: 'javascript', body: `[@Bob](javascript:alert(document.cookie))` },
      { text: 'https', body: `[@Bob](https://evil.example/m/${bob})` },
    ];
    for (const m of sent) await sendRaw(s.mallory, s.conv, markdown(m.body));
    await marker(s.mallory, devices, s.conv, 'after the mentions');

    const received = async (d: Device): Promise<Map<string, MessageView>> => {
      // Mallory's texts in order; the crafted ones are the last before her marker.
      const all = (await page(d, s.conv)).filter((m) => m.kind === 'text' && m.sender.displayName === 'Mallory' && m.text !== 'after the mentions');
      const shown = sent.filter((m) => m.text !== 'thousand');
      const crafted = all.slice(-shown.length);
      return new Map(shown.map((m, i) => [m.text, crafted[i]!]));
    };
    for (const d of [s.alice, s.bob]) {
      const got = await received(d);
      // M-1: a non-member is no mention; the label is all that shows.
      expect(got.get('stranger')!.text).toBe('hi @Zed');
      expect(got.get('stranger')!.mentions).toBeUndefined();
      // A thousand mentions do not fit in a text (LIMITS.messageText): that text is not shown at all.
      expect(got.has('thousand')).toBe(false);
      expect((await page(d, s.conv)).some((m) => m.text.includes('@Bob @Bob @Bob'))).toBe(false);
      // M-2: sixty of two members: at most MAX_MENTIONS kept, the text all there.
      expect(got.get('sixty')!.mentions!.length).toBeLessThanOrEqual(MAX_MENTIONS);
      expect(got.get('sixty')!.text.split('@Alice').length - 1).toBe(30);
      // M-4: a label with a bidi override is no mention; the text is its plain source.
      expect(got.get('rtl')!.mentions).toBeUndefined();
      expect(got.get('rtl')!.text).toBe(sent[4]!.body);
      // Other schemes are no mention either: the markdown source shows as it was written.
      for (const k of ['javascript', 'https']) {
        const v = got.get(k)!;
        expect(v.mentions, k).toBeUndefined();
        expect(v.text, k).toBe(sent.find((m) => m.text === k)!.body);
        // The view links only an http(s) URL shown as itself; no javascript: link at all.
        for (const t of messageTokens(v.text, v.mentions)) {
          if (t.kind !== 'link') continue;
          expect(t.href.startsWith('https://') || t.href.startsWith('http://'), k).toBe(true);
          expect(new URL(t.href).href, k).toBe(new URL(t.text).href);
        }
      }
    }
    // M-3: "you" is decided by the receiver; M-5: the label "@Alice" that links Bob is nobody's mention, the text as it reads.
    const onAlice = await received(s.alice);
    const onBob = await received(s.bob);
    for (const got of [onAlice, onBob]) {
      expect(got.get('label')!.mentions).toBeUndefined();
      expect(got.get('label')!.text).toBe('pay @Alice now');
    }
    expect(onAlice.get('sixty')!.mentionsYou).toBe(true);
    expect(onBob.get('sixty')!.mentionsYou).toBe(true);

    // Muted: only texts that really mention them notify, once each: 'sixty', for both.
    await waitUntil(() => shows(s.bob) - shownBefore.bob >= 1 && shows(s.alice) - shownBefore.alice >= 1, 20_000 * SLOW, 'both notified');
    await marker(s.mallory, devices, s.conv, 'after the notifications');
    expect(shows(s.alice) - shownBefore.alice).toBe(1);
    expect(shows(s.bob) - shownBefore.bob).toBe(1);

    // Nothing stopped the conversation: Alice and Bob still talk to everyone.
    await marker(s.alice, devices, s.conv, 'still here');
    await marker(s.bob, devices, s.conv, 'me too');
  }, 120_000 * SLOW);
});
