/**
 * Attack: a member "edits" her own file message so that what the others
 * keep changes under them: a plain text edit (an edit replaces a content's
 * whole body, draft §3.4: the file would be dropped, or its card renamed),
 * an edit whose body carries a caption and another file (a choose-one
 * multipart, whose text the reader would take), and an edit that is itself
 * a file part (a new file under the old message).
 *
 * Defence (R-RICH-8, rich-record.ts): a file message is never edited. The
 * honest sending side refuses with InvalidInput (no Edit in the view either);
 * every receiving device refuses whatever a modified client sends and
 * writes nothing: the stored record of the file message is byte for byte
 * what it was, it still shows the same file, and it can still be deleted.
 */
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../lib/bytes.ts';
import { Cardinality, Disposition, PartSemantics, type ExternalPart } from '../../lib/content/types.ts';
import { messageIdFrom, outgoing } from '../../lib/background/mimi-wire.ts';
import * as text from '../../lib/background/text.ts';
import { ATTACHMENT_CHUNK_BYTES } from '../../lib/protocol/attachments.ts';
import { ChannelError, ErrorCode, type MessageView } from '../../lib/protocol/channel.ts';
import { waitUntil, type Device } from '../integration/support/device.ts';
import { externalPart } from './support/external-part.ts';
import { withScenario } from './support/with-scenario.ts';
import { SLOW, content, find, marker, rawRow, receiptsSettled, sendRaw } from './support/rich-attack.ts';

/** What the view does to send a file: begin, then each chunk; answers the message sent. */
async function sendFile(d: Device, conversationId: string, file: Uint8Array, name: string): Promise<MessageView> {
  const { uploadId } = await d.app.handlers['attachment.begin']({ conversationId, name, type: 'text/plain', size: file.length });
  let message: MessageView | undefined;
  for (let i = 0; i * ATTACHMENT_CHUNK_BYTES < file.length; i++) {
    ({ message } = await d.app.handlers['attachment.chunk']({ uploadId, index: i, data: toB64(file.subarray(i * ATTACHMENT_CHUNK_BYTES, (i + 1) * ATTACHMENT_CHUNK_BYTES)) }));
  }
  return message!;
}

/** Another file's part, as a modified client would put it in an edit (a valid one: only the edit is wrong). */
const otherFile = (url: string): ExternalPart => externalPart({ contentType: 'application/octet-stream', url, filename: 'invoice-paid.pdf' });

describe('a member edits her own file message', () => {
  const s = withScenario();

  it('the honest sender is refused; every device refuses crafted edits and keeps the record byte for byte; it can still be deleted', async () => {
    const devices = [s.alice, s.bob, s.mallory];
    const file = await sendFile(s.mallory, s.conv, new TextEncoder().encode('IBAN DE00 1234 5678'), 'bank-details.txt');
    for (const d of devices) await waitUntil(async () => (await find(d, s.conv, file.id))?.attachment?.name === 'bank-details.txt', 20_000 * SLOW, `${d.name} has the file`);
    await receiptsSettled(devices, s.conv);
    const before = await Promise.all(devices.map((d) => rawRow(d, s.conv, file.id)));
    const views = await Promise.all(devices.map((d) => find(d, s.conv, file.id)));

    // The honest client: refused with a typed error, nothing sent or written.
    const honest = await s.mallory.app.handlers['message.edit']({ conversationId: s.conv, messageId: file.id, text: 'new words' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(honest).toBeInstanceOf(ChannelError);
    expect((honest as ChannelError).code).toBe(ErrorCode.InvalidInput);
    expect((honest as ChannelError).message).toBe(text.CANT_EDIT_FILE);

    // A modified client: a plain edit; a caption with another file (choose-one: the reader takes the text); an edit that is a file.
    const url = `${s.relay.url}/v1/blobs/${'A'.repeat(22)}`;
    await sendRaw(s.mallory, s.conv, outgoing({ kind: 'edit', original: file.id, text: 'bank-details.txt (updated: pay to Mallory)' }));
    await sendRaw(
      s.mallory,
      s.conv,
      content({
        replaces: messageIdFrom(file.id)!,
        body: {
          disposition: Disposition.render,
          language: '',
          cardinality: Cardinality.multi,
          partSemantics: PartSemantics.chooseOne,
          parts: [{ disposition: Disposition.render, language: '', cardinality: Cardinality.single, contentType: 'text/plain', content: new TextEncoder().encode('new caption') }, otherFile(url)],
        },
      }),
    );
    await sendRaw(s.mallory, s.conv, content({ replaces: messageIdFrom(file.id)!, body: otherFile(url) }));
    // Mallory's next text reached everyone: the edits before it were handled.
    await marker(s.mallory, devices, s.conv, 'after the file edits');

    for (const [i, d] of devices.entries()) {
      const v = (await find(d, s.conv, file.id))!;
      expect(v.edited, `${d.name}`).toBeUndefined();
      expect(v.versions).toBeUndefined();
      expect(v.text).toBe(views[i]!.text);
      expect(v.attachment).toEqual(views[i]!.attachment);
      expect(await rawRow(d, s.conv, file.id), `${d.name}'s stored record`).toEqual(before[i]);
    }

    // Nothing is stuck: the sender can still take the file back, everywhere.
    await s.mallory.app.handlers['message.deleteForEveryone']({ conversationId: s.conv, messageId: file.id });
    for (const d of devices) {
      await waitUntil(async () => (await find(d, s.conv, file.id))?.deleted === true, 20_000 * SLOW, `${d.name} sees the delete`);
      expect((await find(d, s.conv, file.id))!.attachment).toBeUndefined();
    }
  });
});
