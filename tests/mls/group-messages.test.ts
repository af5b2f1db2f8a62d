/**
 * Application messages within and across epochs: out-of-order and lost
 * messages inside the bounded forward skip and retention window, late
 * messages of a retained past epoch, and rejection of replays, reused
 * generations, over-long skips, tampering and application data in the clear.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../lib/bytes.ts';
import { ContentType, WireFormat, type MLSMessage } from '../../lib/mls/framing/framing.ts';
import {
  createCommit,
  encodeGroupState,
  encodeMessage,
  processMessage,
  sendApplicationMessage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { protectPublicMessage } from '../../lib/mls/framing/message-protection.ts';
import { signAsMember } from '../../lib/mls/framing/message-send.ts';
import { deliverAll, expectRejected, makeGroup, utf8 } from './group-fixture.ts';

async function sendN(state: GroupState, n: number, prefix = 'm'): Promise<{ state: GroupState; msgs: MLSMessage[] }> {
  const msgs: MLSMessage[] = [];
  for (let i = 0; i < n; i++) {
    const r = await sendApplicationMessage(state, utf8.encode(`${prefix}${i}`));
    state = r.state;
    msgs.push(r.message);
  }
  return { state, msgs };
}

async function read(state: GroupState, msg: MLSMessage): Promise<{ state: GroupState; text: string }> {
  const r = await processMessage(state, encodeMessage(msg));
  if (r.kind !== 'application') throw new Error('expected application data');
  return { state: r.state, text: new TextDecoder().decode(r.data) };
}

for (const suiteId of [1, 2, 3, 4, 5, 6, 7]) {
  describe(`application messages suite ${suiteId}`, () => {
    let alice: GroupState;
    let bob: GroupState;
    beforeAll(async () => {
      [alice, bob] = (await makeGroup(suiteId, 3, { maxForwardSkip: 20, maxRetainedKeys: 5, maxPastEpochs: 1 })) as [GroupState, GroupState];
    });

    it(`suite ${suiteId}: messages delivered out of order (within retention) all decrypt once`, async () => {
      const { msgs } = await sendN(alice, 5);
      let b = bob;
      for (const i of [4, 0, 2, 1, 3]) {
        const r = await read(b, msgs[i]!);
        expect(r.text).toBe(`m${i}`);
        b = r.state;
      }
      // V-ST-2: a replay of any of them is rejected, state unchanged.
      for (const m of msgs) await expectRejected(b, 'V-ST-2', (s) => processMessage(s, encodeMessage(m)));
    });

    it(`suite ${suiteId}: lost messages are skipped; keys beyond the retention bound are dropped (V-ST-2)`, async () => {
      const { msgs } = await sendN(alice, 12);
      // Read the last first: generations 0..10 are skipped, only the newest 5 keys kept.
      let r = await read(bob, msgs[11]!);
      expect(r.text).toBe('m11');
      for (const i of [10, 9, 8, 7, 6]) {
        const x = await read(r.state, msgs[i]!);
        expect(x.text).toBe(`m${i}`);
      }
      await expectRejected(r.state, 'V-ST-2', (s) => processMessage(s, encodeMessage(msgs[5]!)));
      await expectRejected(r.state, 'V-ST-2', (s) => processMessage(s, encodeMessage(msgs[0]!)));
      r = await read(r.state, msgs[10]!);
      await expectRejected(r.state, 'V-ST-2', (s) => processMessage(s, encodeMessage(msgs[10]!)));
    });

    it(`suite ${suiteId}: a jump beyond the forward-skip bound is rejected (V-ST-3)`, async () => {
      const { msgs } = await sendN(alice, 23);
      await expectRejected(bob, 'V-ST-3', (s) => processMessage(s, encodeMessage(msgs[22]!)));
      const r = await read(bob, msgs[20]!);
      expect(r.text).toBe('m20');
    });

    it(`suite ${suiteId}: a late message of the previous epoch is read; older epochs are not kept (V-RCV-2)`, async () => {
      const early = await sendN(alice, 2, 'early');
      let a = early.state;
      const c1 = await createCommit(a);
      a = c1.state;
      const [b1] = await deliverAll([bob], c1.commit);
      const late = await read(b1!, early.msgs[1]!);
      expect(late.text).toBe('early1');
      await expectRejected(late.state, 'V-ST-2', (s) => processMessage(s, encodeMessage(early.msgs[1]!)));
      // One more epoch: epoch n-2 is gone with maxPastEpochs = 1.
      const c2 = await createCommit(a);
      const [b2] = await deliverAll([late.state], c2.commit);
      await expectRejected(b2!, 'V-RCV-2', (s) => processMessage(s, encodeMessage(early.msgs[0]!)));
      // A handshake message of a past epoch is never accepted.
      await expectRejected(b2!, 'V-RCV-2', (s) => processMessage(s, encodeMessage(c2.commit)));
    });

    it(`suite ${suiteId}: tampering is rejected (V-PROT-10 sender data, V-PROT-11 content, V-PROT-1 clear application data)`, async () => {
      const sent = await sendApplicationMessage(alice, utf8.encode('secret'), { authenticatedData: utf8.encode('ad') });
      if (sent.message.wireFormat !== WireFormat.privateMessage) throw new Error('expected PrivateMessage');
      const pm = sent.message.privateMessage;
      const flip = (b: Uint8Array, i: number) => b.map((x, j) => (j === i ? x ^ 1 : x));
      const badSd: MLSMessage = { ...sent.message, privateMessage: { ...pm, encryptedSenderData: flip(pm.encryptedSenderData, 0) } };
      await expectRejected(bob, 'V-PROT-10', (s) => processMessage(s, encodeMessage(badSd)));
      const badAd: MLSMessage = { ...sent.message, privateMessage: { ...pm, authenticatedData: utf8.encode('AD') } };
      await expectRejected(bob, 'V-PROT-11', (s) => processMessage(s, encodeMessage(badAd)));
      const lastByte = pm.ciphertext.length - 1;
      const badCt: MLSMessage = { ...sent.message, privateMessage: { ...pm, ciphertext: flip(pm.ciphertext, lastByte) } };
      await expect(processMessage(bob, encodeMessage(badCt))).rejects.toThrow(/V-PROT-1[01]/);
      // The genuine message still decrypts afterwards: failures consumed nothing.
      const ok = await read(bob, sent.message);
      expect(ok.text).toBe('secret');

      // Application data sent as a PublicMessage is refused.
      const ac = await signAsMember(alice, { contentType: ContentType.application, applicationData: utf8.encode('x') }, WireFormat.publicMessage);
      expect(() => protectPublicMessage(alice.suite, ac, { groupContext: alice.context, membershipKey: alice.keys.membershipKey })).toThrow('V-PROT-1');
      const clear: MLSMessage = {
        version: 1,
        wireFormat: WireFormat.publicMessage,
        publicMessage: { content: ac.content, auth: ac.auth, membershipTag: new Uint8Array(alice.suite.hash.size) },
      };
      await expectRejected(bob, 'V-PROT-1', (s) => processMessage(s, encodeMessage(clear)));
    });

    it(`suite ${suiteId}: sending and receiving never mutate the input state`, async () => {
      const before = bytesToHex(encodeGroupState(alice));
      const sent = await sendApplicationMessage(alice, utf8.encode('x'));
      expect(bytesToHex(encodeGroupState(alice))).toBe(before);
      // Sending twice from the same (old) state would reuse a generation: the new state must be used.
      expect(bytesToHex(encodeGroupState(sent.state))).not.toBe(before);
      const bobBefore = bytesToHex(encodeGroupState(bob));
      await processMessage(bob, encodeMessage(sent.message));
      expect(bytesToHex(encodeGroupState(bob))).toBe(bobBefore);
    });
  });
}
