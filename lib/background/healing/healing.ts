/**
 * Self-healing and rejoining, as one object the chat service owns
 * (`ChatService.healing`, and `BackgroundApp.healing` for the backup part):
 *
 *   slots     rejoin slots and our ticket per conversation (rejoin-slots.ts)
 *   rejoin    resync from a ticket (rejoin.ts)
 *   healer    rejoins broken conversations by itself (healer.ts)
 *   forks     tells a fork from the epoch tags of others' messages (fork-check.ts)
 *
 * It is the RejoinSource and Rejoiner of backup/ports.ts: a backup stores
 * `ticketFor(id)`, a restore calls `rejoin(id, ticket)`.
 */
import type { RejoinSource, Rejoiner } from '../backup/ports.ts';
import type { Conversations } from '../conversations.ts';
import type { EpochSync } from '../epoch-sync.ts';
import type { Invites } from '../invites.ts';
import { framedHeader, type GroupState, type MLSMessage } from '../../mls/group.ts';
import { ForkCounter, foreignTag } from './fork-check.ts';
import { Healer } from './healer.ts';
import { Rejoin } from './rejoin.ts';
import { RejoinSlots } from './rejoin-slots.ts';

export class Healing implements RejoinSource, Rejoiner {
  readonly slots: RejoinSlots;
  readonly healer: Healer;
  private readonly rejoiner: Rejoin;
  private readonly forks = new ForkCounter();

  constructor(c: Conversations, epochs: EpochSync, invites: Invites, timing?: { baseMs: number; maxMs: number }) {
    this.slots = new RejoinSlots(c, (id) => invites.publish(id));
    this.rejoiner = new Rejoin(c, epochs, invites);
    this.healer = new Healer(c, { ticketFor: (id) => this.slots.ticketFor(id), rejoin: (id, t) => this.rejoiner.rejoin(id, t, 'heal') }, timing);
  }

  /**
   * A delivery for an active conversation was judged against `group` (`applied`: it decrypted and was
   * applied). One from a later epoch means Commits never reached us ('gap'); foreign-tagged ones at our
   * epoch that do not decrypt, in a row, mean a fork (fork-check.ts). Either way the healer is told.
   */
  delivered(id: string, message: MLSMessage, group: GroupState, applied: boolean): void {
    const h = framedHeader(message);
    if (h === null) return;
    if (h.epoch > group.context.epoch) return this.healer.report(id, 'gap');
    if (h.epoch === group.context.epoch && !h.isCommit && this.forks.judged(id, foreignTag(message, group), applied)) this.healer.report(id, 'fork');
  }

  /** Our ticket for the newest rejoin slot of this conversation (rejoin-ticket.ts bytes); undefined when none yet. */
  ticketFor(conversationId: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.slots.ticketFor(conversationId));
  }

  /** Rejoin from a backup's ticket: the members read it as a restore. `name` names the conversation if the slot has none. */
  rejoin(conversationId: string, ticket: Uint8Array, name?: string): Promise<void> {
    return this.rejoiner.rejoin(conversationId, ticket, 'restore', name);
  }

  /** Rejoin a conversation that is here but broken, with our own ticket (what the healer does). */
  heal(conversationId: string, ticket: Uint8Array): Promise<void> {
    return this.rejoiner.rejoin(conversationId, ticket, 'heal');
  }
}
