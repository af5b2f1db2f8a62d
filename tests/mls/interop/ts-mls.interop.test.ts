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
import { runRandomHistory, runScenario, type MemberFactory } from './scenario.ts';

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
    // alice=ours, bob=ts-mls, carol=ours, dave=ts-mls: we create and add ts-mls, ts-mls commits and adds us,
    // we remove ts-mls, ts-mls joins externally from our GroupInfo and leaves by a proposal we commit by reference.
    it(`suite ${suite} mixed: we create the group, ts-mls members join, commit, add us, are removed, join externally, leave`, async () => {
      await runScenario([ours, peer, ours, peer]);
    });
    // The mirror image: every role of ours above is played by ts-mls and vice versa.
    it(`suite ${suite} mixed: ts-mls creates the group, our members join, commit, add ts-mls, are removed, join externally, leave`, async () => {
      await runScenario([peer, ours, peer, ours]);
    });
    // Members alternate between the implementations (even: ours, odd: ts-mls).
    it(`suite ${suite} mixed random history (adds, commits, removes, external joins, messages)`, async () => {
      await runRandomHistory({ ours, peer }, 1000 + suite, 16);
    });
  }
});
