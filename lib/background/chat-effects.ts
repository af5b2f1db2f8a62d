/**
 * Carrying out what handling a delivery asks for next (inbox.ts `Effect`):
 * settle a Commit, publish invites and rejoin slots, announce, send
 * receipts, tell the view. None is awaited: each is its own state change,
 * queued behind the one that asked for it.
 */
import { fromB64 } from '../bytes.ts';
import { ChannelError } from '../protocol/channel.ts';
import type { Announcements } from './announcements.ts';
import { summaryOf, toView, type ChatDeps, type Conversations } from './conversations.ts';
import type { DeviceSync } from './device-sync.ts';
import type { EpochSync } from './epoch-sync.ts';
import { classify } from './failure.ts';
import type { Healing } from './healing/healing.ts';
import type { Effect } from './inbox.ts';
import { revokeAtRelay } from './invite-revocation.ts';
import type { Invites } from './invites.ts';
import type { Outbox } from './outbox.ts';
import type { ReceiptSender } from './receipt-sender.ts';

/** The parts of the chat service effects act on. */
export interface EffectParts {
  deps: ChatDeps;
  c: Conversations;
  epochs: EpochSync;
  invites: Invites;
  healing: Healing;
  announce: Announcements;
  outbox: Outbox;
  receipts: ReceiptSender;
  sync: DeviceSync;
  reportBug(err: unknown): void;
  /** The members list shows something that changed outside the conversation's record: make an open list reload. */
  touch(id: string): Promise<void>;
}

export class ChatEffects {
  constructor(private readonly p: EffectParts) {}

  /**
   * An effect nobody awaits ends here: a refusal (the service stopped or
   * signed out under it, offline) is expected and dropped, a bug is reported.
   */
  private unawaited(work: Promise<unknown>): void {
    void work.catch((err: unknown) => {
      if (classify(err).kind === 'bug' && !(err instanceof ChannelError)) this.p.reportBug(err);
    });
  }

  /** Start one effect of conversation `id`. */
  run(id: string, e: Effect): void {
    const api = (): ReturnType<ChatDeps['api']> => this.p.deps.api();
    switch (e.do) {
      case 'settle':
        return this.p.epochs.settle(e.hash, e.error);
      case 'detach':
        return this.p.c.detach(e.meta);
      case 'unregister':
        // Best effort: the removed member's registration only keeps ciphertext they cannot read, until it expires.
        for (const mb of e.mailboxIds) void api().unregisterQueue(fromB64(e.queue)!, e.cap, mb).catch(() => undefined);
        return;
      case 'revokeInvites':
        // The committer revoked them before posting its Commit (epoch-sync.ts); this is a second try, a 404 is fine.
        void revokeAtRelay(api(), e.invites).catch(() => undefined);
        return;
      case 'publishInvites':
        return this.unawaited(this.p.invites.publish(id).then(() => this.p.healing.slots.epochChanged(id)));
      case 'rejoinSlot':
        return this.unawaited(this.p.healing.slots.membershipChanged(id, e.store));
      case 'announceMailbox':
        return this.unawaited(this.p.announce.mailbox(id));
      case 'announceProfile':
        return this.p.announce.profileSoon(id);
      case 'announceTokenKey':
        return this.unawaited(this.p.announce.tokenKey(id, false));
      case 'judgeTokenKey':
        return this.unawaited(this.p.announce.judgeTokenKey(id, e.memberId, e.app));
      case 'refreshOutbox':
        return this.unawaited(this.p.outbox.refresh(id));
      case 'commitSoon':
        return this.p.epochs.commitSoon(id);
      case 'sendReceipts':
        return this.p.receipts.soon(id);
      case 'incoming':
        return this.p.deps.onIncoming?.(summaryOf(e.meta), toView(e.message));
      case 'reportBug':
        return this.p.reportBug(e.error);
      case 'deviceSync':
        // What we did on another device of ours; one that cannot be done here now (offline) is not retried.
        return this.unawaited(this.p.sync.apply(e.sync));
      case 'removedByOwnDevice':
        return this.p.deps.onRemovedFromAccount?.();
      case 'identityChanged':
        // The warning is in the conversation already; the mark follows (a failed write is retried by the next claim).
        void this.p.deps.people?.verified
          .markChanged(e.personId)
          .then(() => this.p.touch(id))
          .catch(() => undefined);
        return;
    }
  }
}
