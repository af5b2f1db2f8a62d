/**
 * The post of our external Commit (external-commit.ts), shared by the join by
 * invite link and the rejoin by resync: a refused post takes back what the
 * join stored and settles the Commit's waiters with the very problem it throws
 * (a stale capability: JoinConflict, which the join retries; anything else: the
 * relay's problem); a post that went out waits for the relay's order.
 */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createGroup, generateIdentity } from '../../lib/mls/group.ts';
import { JoinConflict } from '../../lib/background/chat-errors.ts';
import type { Conversations } from '../../lib/background/conversations.ts';
import { EpochSync } from '../../lib/background/epoch-sync.ts';
import { postExternalCommit, type ExternalCommit } from '../../lib/background/external-commit.ts';
import { capabilityHash, queueCapability } from '../../lib/background/queue-capability.ts';
import { RelayApiError } from '../../lib/background/relay-wire.ts';
import { ChannelError, ErrorCode } from '../../lib/protocol/channel.ts';

interface Sent {
  queue: Uint8Array;
  cap: Uint8Array;
  token: string;
  payload: Uint8Array;
  rotateTo: string;
}

/** Conversations as the post uses it: a wallet that pays with one token, and a relay that answers `send` with `answer`. */
function setting(answer: () => Promise<void>): { c: Conversations; epochs: EpochSync; sent: Sent[] } {
  const sent: Sent[] = [];
  const deps = {
    wallet: () => ({ spend: <T>(pay: (token: string) => Promise<T>): Promise<T> => pay('token-1') }),
    api: () => ({
      send: async (queue: Uint8Array, cap: Uint8Array, token: string, payload: Uint8Array, rotateTo: string): Promise<void> => {
        sent.push({ queue, cap, token, payload, rotateTo });
        await answer();
      },
    }),
  };
  const c = { deps } as unknown as Conversations;
  return { c, epochs: new EpochSync(c), sent };
}

async function commit(): Promise<ExternalCommit> {
  const suite = getCipherSuite(1);
  const state = await createGroup(suite, await generateIdentity(suite, new TextEncoder().encode('Joiner')));
  return { queue: new Uint8Array(16).fill(4), cap: new Uint8Array(32).fill(5), payload: new Uint8Array([1, 2, 3]), hash: 'commit-hash', state };
}

/** Settles once the promise has, answering whether it resolved or what it rejected with. */
const outcome = (p: Promise<unknown>): Promise<{ resolved: true } | { rejected: unknown }> =>
  p.then(
    () => ({ resolved: true as const }),
    (rejected: unknown) => ({ rejected }),
  );

/** A post the relay refuses with `err`: how often it was undone, what it threw, and what another waiter of the Commit got. */
async function refusedWith(err: Error): Promise<{ undone: number; thrown: unknown; waiter: unknown }> {
  const x = await commit();
  const { c, epochs } = setting(() => Promise.reject(err));
  const waiter = outcome(epochs.waitConfirmed(x.hash));
  let undone = 0;
  const thrown = await outcome(postExternalCommit(c, epochs, x, async () => void undone++));
  expect(thrown).not.toHaveProperty('resolved');
  return { undone, thrown: (thrown as { rejected: unknown }).rejected, waiter: await waiter };
}

describe('posting our external Commit', () => {
  it('a stale capability: undone once, JoinConflict thrown, and every waiter of the Commit gets that same error', async () => {
    const r = await refusedWith(new RelayApiError(409, 'stale_capability', 'capability moved on'));
    expect(r.undone).toBe(1);
    expect(r.thrown).toBeInstanceOf(JoinConflict);
    expect(r.waiter).toEqual({ rejected: r.thrown });
    expect((r.waiter as { rejected: unknown }).rejected).toBe(r.thrown);
  });

  it('any other refusal: undone once, the relay’s problem (not a conflict, so not retried) thrown and given to the waiters', async () => {
    const r = await refusedWith(new RelayApiError(404, 'not_found', 'not found'));
    expect(r.undone).toBe(1);
    expect(r.thrown).toBeInstanceOf(ChannelError);
    expect(r.thrown).not.toBeInstanceOf(JoinConflict);
    expect((r.thrown as ChannelError).code).toBe(ErrorCode.Unavailable);
    expect(r.waiter).toEqual({ rejected: r.thrown });
    expect((r.waiter as { rejected: unknown }).rejected).toBe(r.thrown);
  });

  it('a post that went out: the capability of the new epoch is announced, nothing is undone, and it waits for the relay’s order', async () => {
    const x = await commit();
    const { c, epochs, sent } = setting(() => Promise.resolve());
    let undone = 0;
    let done = false;
    const posted = postExternalCommit(c, epochs, x, async () => void undone++).then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([{ queue: x.queue, cap: x.cap, token: 'token-1', payload: x.payload, rotateTo: capabilityHash(x.queue, queueCapability(x.state)) }]);
    expect(done).toBe(false);
    epochs.settle(x.hash);
    await posted;
    expect(done).toBe(true);
    expect(undone).toBe(0);
  });
});
