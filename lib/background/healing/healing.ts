/**
 * Self-healing and rejoining, as one object the chat service owns
 * (`ChatService.healing`, and `BackgroundApp.healing` for the backup part):
 *
 *   slots     rejoin slots and our ticket per conversation (rejoin-slots.ts)
 *   rejoin    resync from a ticket (rejoin.ts)
 *   healer    rejoins broken conversations by itself (healer.ts)
 *
 * It is the RejoinSource and Rejoiner of backup/ports.ts: a backup stores
 * `ticketFor(id)`, a restore calls `rejoin(id, ticket)`.
 */
import type { RejoinSource, Rejoiner } from '../backup/ports.ts';
import type { Conversations } from '../conversations.ts';
import type { EpochSync } from '../epoch-sync.ts';
import type { Invites } from '../invites.ts';
import { Healer } from './healer.ts';
import { Rejoin } from './rejoin.ts';
import { RejoinSlots } from './rejoin-slots.ts';

export class Healing implements RejoinSource, Rejoiner {
  readonly slots: RejoinSlots;
  readonly healer: Healer;
  private readonly rejoiner: Rejoin;

  constructor(c: Conversations, epochs: EpochSync, invites: Invites, timing?: { baseMs: number; maxMs: number }) {
    this.slots = new RejoinSlots(c, (id) => invites.publish(id));
    this.rejoiner = new Rejoin(c, epochs, invites);
    this.healer = new Healer(c, { ticketFor: (id) => this.slots.ticketFor(id), rejoin: (id, t) => this.rejoiner.rejoin(id, t, 'heal') }, timing);
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
