/**
 * Interop with ts-mls 1.6.4, an independent RFC 9420 implementation: mixed
 * groups of our members and ts-mls members, for suites 1, 2 and 3. Every
 * message crosses between the two engines as MLSMessage bytes only.
 *
 * The ts-mls-only run checks the harness itself (peer adapter + scenario).
 */
import { describe, it } from 'vitest';
import { peerMember } from './peer.ts';
import { runScenario, type MemberFactory } from './scenario.ts';

const SUITES = [1, 2, 3] as const;

describe('ts-mls interop', () => {
  for (const suite of SUITES) {
    const peer: MemberFactory = (name) => peerMember(name, suite);
    it(`suite ${suite} harness: ts-mls only`, async () => {
      await runScenario([peer, peer, peer, peer]);
    });
  }
});
