// Effects nobody awaits (publishing invites, announcing, refreshing the outbox)
// can be refused when the service stops or signs out under them: that ends
// quietly, and only a bug is reported. A stopped worker's last effects used to
// end as unhandled rejections ("This account is signed out.").
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatEffects, type EffectParts } from '../../lib/background/chat-effects.ts';
import { ChannelError, ErrorCode } from '../../lib/protocol/channel.ts';

const signedOut = (): Promise<never> => Promise.reject(new ChannelError(ErrorCode.Forbidden, 'This account is signed out.'));

describe('effects nobody awaits', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  function effects(fail: () => Promise<never>): { run: ChatEffects; bugs: unknown[] } {
    const bugs: unknown[] = [];
    const parts = {
      invites: { publish: fail },
      healing: { slots: { membershipChanged: fail, epochChanged: fail } },
      announce: { mailbox: fail, tokenKey: fail, judgeTokenKey: fail },
      outbox: { refresh: fail },
      sync: { apply: fail },
      reportBug: (err: unknown) => void bugs.push(err),
    } as unknown as EffectParts;
    return { run: new ChatEffects(parts), bugs };
  }

  const kinds = [
    { do: 'publishInvites' },
    { do: 'rejoinSlot', store: true },
    { do: 'announceMailbox' },
    { do: 'announceTokenKey' },
    { do: 'judgeTokenKey', memberId: 'm', app: {} },
    { do: 'refreshOutbox' },
    { do: 'deviceSync', sync: {} },
  ] as unknown as Parameters<ChatEffects['run']>[1][];

  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

  it('a refusal (stopped or signed out meanwhile) ends quietly: no unhandled rejection, no bug', async () => {
    const { run, bugs } = effects(signedOut);
    for (const e of kinds) run.run('conv', e);
    await settle();
    expect(unhandled).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it('a bug is reported once per effect, not left unhandled', async () => {
    const { run, bugs } = effects(() => Promise.reject(new TypeError('ours to fix')));
    for (const e of kinds) run.run('conv', e);
    await settle();
    expect(unhandled).toEqual([]);
    expect(bugs).toHaveLength(kinds.length);
    expect(bugs.every((b) => b instanceof TypeError)).toBe(true);
  });
});
