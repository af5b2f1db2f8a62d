/**
 * Outgoing messages that lost the race to a Commit.
 *
 * Every Commit rotates the queue capability (queue-capability.ts), and the
 * relay refuses a post made with the previous one as `stale_capability`: the
 * message was encrypted in an epoch the group has left. Instead of failing
 * it, the outbox keeps the encoded app message, and once we are in the new
 * epoch it is encrypted again there (a fresh ratchet generation, never the
 * same one twice) and posted with the new capability.
 */
import { encodeMessage, sendApplicationMessage, type GroupState } from '../mls/group.ts';
import { forkTagData } from './healing/fork-check.ts';
import type { OutboxEntry } from './chat-store.ts';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * The entries of one conversation made in an older epoch than `state`'s
 * (their capability is not `cap`), encrypted again in `state`; null when
 * there is nothing to do. Failed entries, and entries without their app
 * message, stay as they are.
 */
export async function reencryptStale(
  state: GroupState,
  cap: Uint8Array,
  entries: readonly OutboxEntry[],
): Promise<{ state: GroupState; entries: OutboxEntry[] } | null> {
  let current = state;
  const out: OutboxEntry[] = [];
  for (const e of entries) {
    if (e.failed === true || e.app === undefined || e.cap === undefined || sameBytes(e.cap, cap)) continue;
    const sent = await sendApplicationMessage(current, e.app, { authenticatedData: forkTagData(current) });
    current = sent.state;
    out.push({ ...e, payload: encodeMessage(sent.message), cap, failed: false });
  }
  return out.length === 0 ? null : { state: current, entries: out };
}
