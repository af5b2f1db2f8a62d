/**
 * Attack: a hostile member edits someone else's message. Mallory's modified
 * client sends MIMI edits (`replaces` = the id of Alice's message) so that
 * Alice's words read as Mallory wants on Bob's device: a plain edit, the
 * same edit again, and one that also claims Alice as its sender in the
 * content's extensions.
 *
 * Defence: who sent an edit is the MLS sender, never the content (R-WIRE-1,
 * mimi-wire.ts: a content naming another sender is not shown), and only the
 * original sender's edit counts (R-RICH-2, rich-record.ts, draft §9). Every
 * receiving device refuses it and writes nothing: the stored record of
 * Alice's message is byte for byte what it was, and Alice can still edit it.
 */
import { describe, expect, it } from 'vitest';
import { Cardinality, Disposition, ExtensionKeys } from '../../lib/content/types.ts';
import { messageIdFrom, outgoing, senderUri } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import { waitUntil } from '../integration/support/device.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW, content, find, marker, page, rawRow, sendRaw, receiptsSettled } from './support/rich-attack.ts';

describe('a member edits someone else’s message', () => {
  const s = withScenario();

  it('every device refuses the edit and keeps the original record unchanged; the sender can still edit it', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    const original = await marker(s.alice, devices, s.conv, 'Transfer 10 EUR to Bob');
    const aliceMemberId = (await find(s.alice, s.conv, original.id))!.sender.memberId;
    await receiptsSettled(devices, s.conv);
    const before = await Promise.all(devices.map((d) => rawRow(d, s.conv, original.id)));

    await sendRaw(s.mallory, s.conv, outgoing({ kind: 'edit', original: original.id, text: 'Transfer 1000 EUR to Mallory' }));
    await sendRaw(s.mallory, s.conv, outgoing({ kind: 'edit', original: original.id, text: 'Transfer 1000 EUR to Mallory' }));
    // The same edit, claiming in its extensions to come from Alice.
    await sendRaw(
      s.mallory,
      s.conv,
      content({
        replaces: messageIdFrom(original.id)!,
        extensions: new Map([[ExtensionKeys.senderUri, senderUri(aliceMemberId)]]),
        body: { disposition: Disposition.render, language: '', cardinality: Cardinality.single, contentType: 'text/plain', content: new TextEncoder().encode('Transfer 5000 EUR to Mallory') },
      }),
    );
    // Mallory's next text reached everyone: her edits before it were handled.
    await marker(s.mallory, devices, s.conv, 'after the edits');

    for (const [i, d] of devices.entries()) {
      const v = (await find(d, s.conv, original.id))!;
      expect(v.text).toBe('Transfer 10 EUR to Bob');
      expect(v.edited).toBeUndefined();
      expect(v.versions).toBeUndefined();
      expect(await rawRow(d, s.conv, original.id), `${d.name}'s stored record`).toEqual(before[i]);
    }
    // The content with a forged sender is not an edit at all: it shows as an unreadable message of Mallory's.
    for (const d of [s.alice, s.bob]) {
      const bad = (await page(d, s.conv)).filter((m) => m.unshowable === true);
      expect(bad.map((m) => [m.sender.displayName, m.text])).toEqual([['Mallory', text.CANT_SHOW]]);
    }

    // Nothing is stuck: the real sender's edit still applies everywhere.
    await s.alice.app.handlers['message.edit']({ conversationId: s.conv, messageId: original.id, text: 'Transfer 20 EUR to Bob' });
    for (const d of devices) {
      await waitUntil(async () => (await find(d, s.conv, original.id))?.text === 'Transfer 20 EUR to Bob', 20_000 * SLOW, `${d.name} sees Alice's edit`);
      expect((await find(d, s.conv, original.id))!.versions!.map((x) => x.text)).toEqual(['Transfer 10 EUR to Bob']);
    }
  });
});
