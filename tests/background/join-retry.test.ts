import { describe, expect, it } from 'vitest';
import { JoinConflict } from '../../lib/background/chat-errors.ts';
import { retryOnConflict } from '../../lib/background/join-retry.ts';
import { ChannelError, ErrorCode } from '../../lib/protocol/channel.ts';

/** An attempt that answers from `outcomes` in turn (an Error is thrown) and counts its calls. */
function attempts(...outcomes: (string | Error)[]): { run: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    run: async () => {
      const o = outcomes[Math.min(n++, outcomes.length - 1)]!;
      if (o instanceof Error) throw o;
      return o;
    },
    calls: () => n,
  };
}

const pausesMs = [5, 10, 20];

describe('retrying a join that lost to another Commit', () => {
  it('a conflict is tried again after a pause until the join goes through', async () => {
    const a = attempts(new JoinConflict(), new JoinConflict(), 'joined');
    const start = Date.now();
    expect(await retryOnConflict(a.run, { pausesMs })).toBe('joined');
    expect(a.calls()).toBe(3);
    expect(Date.now() - start).toBeGreaterThanOrEqual(14);
  });

  it('gives up with the conflict once the pauses are spent', async () => {
    const a = attempts(new JoinConflict());
    await expect(retryOnConflict(a.run, { pausesMs })).rejects.toBeInstanceOf(JoinConflict);
    expect(a.calls()).toBe(pausesMs.length + 1);
  });

  it('any other failure of the first try is thrown at once, untried again', async () => {
    const wrong = new ChannelError(ErrorCode.InvalidInput, 'not an invite');
    const a = attempts(wrong, 'joined');
    await expect(retryOnConflict(a.run, { pausesMs })).rejects.toBe(wrong);
    expect(a.calls()).toBe(1);
  });

  it('a later failure goes through laterFailure, which may say the first conflict instead', async () => {
    const first = new JoinConflict();
    const gone = new ChannelError(ErrorCode.NotFound, 'invite gone');
    const a = attempts(first, gone);
    const laterFailure = (err: unknown, conflict: JoinConflict): unknown => (err === gone ? conflict : err);
    await expect(retryOnConflict(a.run, { pausesMs, laterFailure })).rejects.toBe(first);
    expect(a.calls()).toBe(2);
    const other = new ChannelError(ErrorCode.Forbidden, 'removed');
    await expect(retryOnConflict(attempts(new JoinConflict(), other).run, { pausesMs, laterFailure })).rejects.toBe(other);
  });

  it('without laterFailure a later failure is thrown as it is', async () => {
    const gone = new ChannelError(ErrorCode.NotFound, 'invite gone');
    await expect(retryOnConflict(attempts(new JoinConflict(), gone).run, { pausesMs })).rejects.toBe(gone);
  });
});
