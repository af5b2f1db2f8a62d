/**
 * Sync between a person's devices (docs/identity.md): what one of our devices
 * does for the person (read a conversation, leave it, delete it here) is told
 * to our other devices in a hidden MLS conversation whose members are only
 * our devices (the "self conversation"), with a `sync` app message
 * (device-sync-message.ts). The other members of the conversation learn
 * nothing beyond what read receipts already tell them.
 *
 * The self conversation is made by the first device that adds another one:
 * when a device of ours (its address is in our roster) is added to any
 * conversation, it is first added to the self conversation (`includeOwn`),
 * so linking's "add the new device everywhere" needs nothing more. A device
 * that joins it by Welcome knows it by its name in the sealed Welcome
 * details. It never shows in the list.
 *
 * Sending: only when every other member of the self conversation is one of
 * our devices (identity/own-devices.ts), so a conversation someone else made
 * under that name never receives our read state. Receiving: the inbox passes
 * on a `sync` only when its MLS sender's leaf is one of our devices.
 */
import { randomId } from '../bytes.ts';
import { memberIds, ownMemberId } from './group-members.ts';
import type { ConversationMeta } from './chat-store.ts';
import type { Conversations } from './conversations.ts';
import type { DeviceSyncAction } from './device-sync-message.ts';
import type { DeviceAddress } from './device-address.ts';
import { WelcomeNotDelivered } from './directory-errors.ts';
import { whenCommitsSettle } from './after-commits.ts';
import { ownDeviceIds } from './identity/own-devices.ts';
import type { Outbox } from './outbox.ts';

/** The self conversation's name in the Welcome details (never shown: the conversation is hidden). */
export const SELF_CONVERSATION_NAME = 'MicroChat: my devices';

/** How far back a "read up to" is looked for among this device's messages. */
const READ_WINDOW = 500;

/** What DeviceSync needs of the conversation's life (membership.ts). */
export interface SyncMembership {
  create(name: string): Promise<string>;
  leave(id: string): Promise<void>;
  delete(id: string): Promise<void>;
  /** device-adds.ts `addDevices`. */
  addDevices(id: string, devices: readonly DeviceAddress[]): Promise<void>;
}

export class DeviceSync {
  private making: Promise<string> | undefined;

  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
    private readonly membership: SyncMembership,
  ) {}

  /** The live self conversation, if this device is in one. */
  current(): ConversationMeta | undefined {
    return [...this.c.metas.values()].find((m) => m.selfSync === true && m.status === 'active');
  }

  /** The self conversation's id, made here (with this device alone) the first time. Linking adds each new device to it. */
  selfConversation(): Promise<string> {
    const known = this.current();
    if (known !== undefined) return Promise.resolve(known.id);
    this.making ??= this.make().finally(() => (this.making = undefined));
    return this.making;
  }

  /**
   * Before `devices` are added to a conversation: those that are ours (their
   * address is in our roster) join the self conversation first, made if
   * needed; each once. Throws what adding throws (the caller decides).
   */
  async includeOwn(devices: readonly DeviceAddress[]): Promise<void> {
    const roster = this.c.deps.people?.own.roster;
    const ours = devices.filter((d) => roster?.devices.some((r) => r.address?.accountId === d.accountId && r.address.welcomeMailboxId === d.welcomeMailboxId));
    if (ours.length === 0) return;
    const id = await this.selfConversation();
    const fresh = ours.filter((d) => !(this.c.meta(id).selfDevices ?? []).includes(d.accountId));
    if (fresh.length === 0) return;
    try {
      await this.membership.addDevices(id, fresh);
    } catch (err) {
      // Added, its Welcome kept to be posted later (device-adds.ts): added all the same.
      if (!(err instanceof WelcomeNotDelivered)) throw err;
    }
    await this.c.serial(async () => {
      const meta = this.c.meta(id);
      await this.c.apply({ metas: [{ ...meta, selfDevices: [...(meta.selfDevices ?? []), ...fresh.map((d) => d.accountId)] }] });
    });
  }

  /** Whether `id` is a self conversation. */
  isSelf(id: string): boolean {
    return this.c.metas.get(id)?.selfSync === true;
  }

  private async make(): Promise<string> {
    const id = await this.membership.create(SELF_CONVERSATION_NAME);
    await this.c.serial(() => this.c.apply({ metas: [{ ...this.c.meta(id), selfSync: true }] }));
    return id;
  }

  /** We read `id` on this device: tell our other devices up to which text. Best effort. */
  async read(id: string): Promise<void> {
    const { messages } = await this.c.store.page(id, null, READ_WINDOW);
    const newest = messages.filter((m) => m.kind === 'text').at(-1);
    if (newest !== undefined) await this.tell({ action: 'read', conversationId: id, upTo: newest.id });
  }

  /** We left or deleted `id` on this device: our other devices do it too. Best effort. */
  async did(action: 'leave' | 'delete', id: string): Promise<void> {
    await this.tell({ action, conversationId: id });
  }

  private async tell(sync: DeviceSyncAction): Promise<void> {
    const self = this.current();
    if (self === undefined || self.id === sync.conversationId || !(await this.onlyOurs(self))) return;
    await this.outbox.sendApp(self.id, { v: 1, t: 'sync', id: randomId(), at: Date.now(), ...sync });
  }

  /** Whether the self conversation has another member and every other member is one of our devices. */
  private async onlyOurs(self: ConversationMeta): Promise<boolean> {
    const state = await this.c.group(self.id);
    const own = ownMemberId(state);
    const others = memberIds(state).filter((m) => m !== own);
    return others.length > 0 && ownDeviceIds(self, others, this.c.deps.people?.own).size === others.length;
  }

  /** One of our devices did this (the inbox checked the sender): do it here, with the same system text as if done here. */
  async apply(sync: DeviceSyncAction): Promise<void> {
    const meta = this.c.metas.get(sync.conversationId);
    if (meta === undefined || meta.selfSync === true) return;
    if (sync.action === 'read') return this.readUpTo(meta.id, sync.upTo);
    if (sync.action === 'leave') {
      if (meta.status === 'active') await whenCommitsSettle(() => this.membership.leave(meta.id));
      return;
    }
    await whenCommitsSettle(() => this.membership.delete(meta.id));
  }

  /** Read up to that message here: the unread texts are those after it. No read receipts: the reading device sent them. */
  private async readUpTo(id: string, upTo: string): Promise<void> {
    await this.c.serial(async () => {
      const meta = this.c.metas.get(id);
      const mark = await this.c.store.message(id, upTo).catch(() => undefined);
      if (meta === undefined || mark === undefined || (meta.readSeq !== undefined && meta.readSeq >= mark.seq)) return;
      const { messages } = await this.c.store.page(id, null, READ_WINDOW);
      const unread = messages.filter((m) => m.kind === 'text' && !m.sender.self && m.seq > mark.seq).length;
      await this.c.apply({ metas: [{ ...meta, unread: Math.min(unread, meta.unread), readSeq: mark.seq }] });
    });
  }
}
