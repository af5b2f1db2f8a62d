/**
 * Removal revokes invites. Every member holds every open invite's keys (to
 * republish its GroupInfo), so a removed member would keep them: enough to
 * overwrite the blob with a group of their own (signed with the invite's
 * signing key they still hold) or to rejoin through the link. So when the
 * membership shrinks, the open invites of the conversation are deleted at the
 * relay (which keeps a tombstone of each id until its expiry, so nobody can
 * create it again with the old keys) and every member forgets their keys.
 *
 * Order: the member who commits a removal revokes BEFORE posting the Commit
 * (epoch-sync.ts `commit`), so there is no epoch in which the removed member is
 * out but the links still live. Every other member, on processing the Commit,
 * forgets the keys and repeats the deletion (idempotent: a 404 is "already
 * gone"), which covers a committer that could not reach the relay.
 */
import type { GroupState } from '../mls/group.ts';
import { members } from '../mls/group.ts';
import { fromB64 } from '../bytes.ts';
import type { InviteRecord } from './chat-store.ts';
import type { RelayApi } from './relay-api.ts';
import { isGone } from './failure.ts';

/** Whether some member of `before` is gone in `after` (removed, left, or replaced at the same leaf). */
export function membershipShrank(before: GroupState, after: GroupState): boolean {
  const now = new Map(members(after).map((m) => [m.leafIndex, m.leaf.signatureKey]));
  return members(before).some((m) => {
    const key = now.get(m.leafIndex);
    return key === undefined || !sameBytes(key, m.leaf.signatureKey);
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Delete every invite at the relay; "not found" counts as done. Throws the first other failure. */
export async function revokeAtRelay(api: RelayApi, invites: readonly InviteRecord[]): Promise<void> {
  const results = await Promise.allSettled(
    invites.map(async (i) => {
      try {
        await api.deleteInvite(i.inviteId, fromB64(i.writeKey)!);
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
