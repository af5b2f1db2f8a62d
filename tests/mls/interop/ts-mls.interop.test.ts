/**
 * Interop with ts-mls 1.6.4, an independent RFC 9420 implementation: mixed
 * groups of our members and ts-mls members, for suites 1, 2 and 3. Every
 * message crosses between the two engines as MLSMessage bytes only.
 *
 * The single-implementation runs check the harness itself (adapters + scenario).
 */
import { describe, it } from 'vitest';
import { ourMember } from './ours.ts';
import { peerMember } from './peer.ts';
import { runScenario, type MemberFactory } from './scenario.ts';

const SUITES = [1, 2, 3] as const;

describe('ts-mls interop', () => {
  for (const suite of SUITES) {
    const peer: MemberFactory = (name) => peerMember(name, suite);
    const ours: MemberFactory = (name) => ourMember(name, suite);
    it(`suite ${suite} harness: ts-mls only`, async () => {
      await runScenario([peer, peer, peer, peer]);
    });
    it(`suite ${suite} harness: ours only`, async () => {
      await runScenario([ours, ours, ours, ours]);
    });
    it(`suite ${suite} mixed: ours creates, ts-mls joins/commits/removes, ts-mls joins externally from our GroupInfo`, async () => {
      await runScenario([ours, peer, ours, peer]);
    });
    it(`suite ${suite} mixed: ts-mls creates, we join/commit/remove, we join externally from its GroupInfo`, async () => {
      await runScenario([peer, ours, peer, ours]);
    });
  }
});
