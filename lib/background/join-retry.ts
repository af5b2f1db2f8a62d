/**
 * Retrying an external join that lost to someone else's Commit.
 *
 * When another person joins (or anyone commits) just before us, the GroupInfo
 * we read is one epoch old and the relay refuses our registration or Commit as
 * stale (JoinConflict). The members republish the newer GroupInfo once they
 * have processed that Commit, which on a busy device takes a moment; so the
 * join reads again after a short, growing pause instead of telling the person
 * to open the link again after one quick try.
 */
import { JoinConflict } from './chat-errors.ts';

/** Pauses before each further attempt: about 7.5 s in all, what members need to republish under load. */
export const CONFLICT_PAUSES_MS: readonly number[] = [500, 1_000, 2_000, 4_000];

/**
 * Run `attempt` until it does not end in JoinConflict, pausing between tries.
 * When a later try fails otherwise, `laterFailure` decides what is thrown
 * (the first conflict says more than, say, a one-time invite now gone).
 */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  opts: { pausesMs?: readonly number[]; laterFailure?: (err: unknown, conflict: JoinConflict) => unknown } = {},
): Promise<T> {
  const pauses = opts.pausesMs ?? CONFLICT_PAUSES_MS;
  let conflict: JoinConflict | undefined;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof JoinConflict)) throw conflict === undefined ? err : (opts.laterFailure?.(err, conflict) ?? err);
      if (i >= pauses.length) throw err;
      conflict ??= err;
      await new Promise((resolve) => setTimeout(resolve, pauses[i]));
    }
  }
}
