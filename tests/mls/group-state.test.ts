/**
 * GroupState persistence: the versioned byte form restores exactly (encode ∘
 * decode is the identity on bytes) for states carrying pending proposals,
 * pending update keys, retained past epochs with skipped keys and resumption
 * PSKs; restored states keep working; malformed bytes only ever raise
 * DecodeError.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../lib/bytes.ts';
import { DecodeError } from '../../lib/mls/errors.ts';
import {
  createCommit,
  decodeGroupState,
  encodeGroupState,
  encodeMessage,
  processMessage,
  proposeUpdate,
  sendApplicationMessage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { GROUP_STATE_FORMAT_VERSION } from '../../lib/mls/group/group-state.ts';
import { deliverAll, makeGroup, utf8 } from './group-fixture.ts';

describe('group state serialization', () => {
  let bob: GroupState;
  let alice: GroupState;
  let late: Uint8Array;
  beforeAll(async () => {
    let g = await makeGroup(1, 3, { maxPastEpochs: 2, maxRetainedKeys: 4 });
    // Alice sends 3 messages; Bob reads only the last (2 skipped keys retained).
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await sendApplicationMessage(g[0]!, utf8.encode(`m${i}`));
      g[0] = r.state;
      msgs.push(encodeMessage(r.message));
    }
    g[1] = (await processMessage(g[1]!, msgs[2]!)).state;
    late = msgs[0]!;
    // A commit moves everyone on; then Bob proposes an Update (pending proposal + pending key).
    const c = await createCommit(g[2]!);
    g = [...(await deliverAll([g[0]!, g[1]!], c.commit)), c.state];
    const u = await proposeUpdate(g[1]!);
    bob = u.state;
    alice = (await deliverAll([g[0]!], u.message))[0]!;
  });

  it('suite 1: encode(decode(bytes)) == bytes for a state with history', () => {
    for (const s of [bob, alice]) {
      const bytes = encodeGroupState(s);
      expect(bytesToHex(encodeGroupState(decodeGroupState(bytes)))).toBe(bytesToHex(bytes));
    }
    expect(bob.pendingProposals.length).toBe(1);
    expect(bob.pendingUpdateKeys.length).toBe(1);
    expect(bob.pastEpochs.length).toBe(1);
    expect(bob.resumptionPsks.length).toBeGreaterThan(0);
  });

  it('suite 1: a restored state reads a late message of a past epoch and follows a Commit of its pending Update', async () => {
    const restored = decodeGroupState(encodeGroupState(bob));
    const r = await processMessage(restored, late);
    expect(r.kind === 'application' && new TextDecoder().decode(r.data)).toBe('m0');
    const c = await createCommit(decodeGroupState(encodeGroupState(alice)));
    const b2 = await processMessage(r.state, encodeMessage(c.commit));
    expect(bytesToHex(b2.state.keys.epochAuthenticator)).toBe(bytesToHex(c.state.keys.epochAuthenticator));
  });

  it('suite 1: an unknown format version and truncations are DecodeErrors', () => {
    const bytes = encodeGroupState(bob);
    const wrongVersion = bytes.slice();
    wrongVersion[3] = GROUP_STATE_FORMAT_VERSION + 1;
    expect(() => decodeGroupState(wrongVersion)).toThrow(DecodeError);
    for (let n = 0; n < bytes.length; n += Math.max(1, Math.floor(bytes.length / 97))) {
      expect(() => decodeGroupState(bytes.subarray(0, n))).toThrow(DecodeError);
    }
    const trailing = new Uint8Array(bytes.length + 1);
    trailing.set(bytes);
    expect(() => decodeGroupState(trailing)).toThrow(DecodeError);
  });

  it('suite 1: mutated bytes decode or raise DecodeError, nothing else', () => {
    const bytes = encodeGroupState(bob);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const m = bytes.slice();
        for (const [i, v] of edits) m[i] = v;
        try {
          decodeGroupState(m);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
