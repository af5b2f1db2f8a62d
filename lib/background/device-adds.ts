/**
 * Adding devices to a conversation without a link: claim one KeyPackage of
 * each device from the relay's directory, validate it, make one Add Commit
 * for all of them through the usual commit path (epoch-sync.ts: pending,
 * posted with the capability rotating, confirmed by the relay's order), then
 * post each device its Welcome (with the ratchet_tree extension) in its
 * Welcome mailbox, sealed-sender.
 *
 * The newcomer must not miss what the queue carries between our Commit and
 * its joining, and it cannot register a mailbox before it has the group's
 * secrets. So we make one mailbox per newcomer and register it to the queue
 * BEFORE the Commit goes out; its credentials reach the newcomer sealed
 * under the new epoch's exporter (welcome-envelope.ts). Everything from our
 * Commit on is waiting there when the newcomer listens.
 *
 * Who may add is the conversation's invite rule (conversation-roles.ts);
 * the engine of every member enforces it too (V-ROLE-*).
 */
import { decode } from '../mls/codec/codec.ts';
import { credentialIdentity, encodeMessage, removeProposal, validateKeyPackage, type GroupState } from '../mls/group.ts';
import { ProtocolVersion } from '../mls/framing/protocol-version.ts';
import { keyPackageCodec, type KeyPackageIn } from '../mls/join/key-package.ts';
import { makeKeyPackageRef } from '../mls/keys/crypto-ops.ts';
import { ProposalType, type Proposal } from '../mls/group/proposals.ts';
import { ValidationError } from '../mls/errors.ts';
import { fromB64, toB64 } from '../bytes.ts';
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import { ChangeInFlight, relayProblem } from './chat-errors.ts';
import { requireRole, rolesView } from './conversation-roles.ts';
import type { Conversations } from './conversations.ts';
import { DeviceAddressError, parseDeviceAddress, type DeviceAddress } from './device-address.ts';
import { planAdds, recordIntent, recordWelcomes } from './device-add-plan.ts';
import { memberById, memberIds } from './group-members.ts';
import { memberIdOf } from './safety-code.ts';
import { BadKeyPackage, DirectoryOffline, NoKeyPackage, WelcomeNotDelivered } from './directory-errors.ts';
import type { EpochSync } from './epoch-sync.ts';
import { classify, isGone } from './failure.ts';
import { isPseudonym } from './member-names.ts';
import { queueCapability } from './queue-capability.ts';
import type { MailboxCredentials } from './relay-api.ts';
import * as text from './text.ts';
import { sealWelcome } from './welcome-envelope.ts';

/** Most devices one Commit adds (a Welcome grows with each, and so does the claim budget spent). */
export const MAX_DEVICES_PER_ADD = 20;
/** Claims per device while the relay keeps handing out expired packages (it cannot tell). */
const CLAIM_ATTEMPTS = 3;

interface Claimed {
  device: DeviceAddress;
  keyPackage: KeyPackageIn;
  ref: Uint8Array;
}

/** The addresses from a request, strictly: at least one, not too many, none twice. */
export function checkDevices(devices: readonly unknown[]): DeviceAddress[] {
  if (devices.length === 0) throw new ChannelError(ErrorCode.InvalidInput, text.NO_DEVICES);
  if (devices.length > MAX_DEVICES_PER_ADD) throw new ChannelError(ErrorCode.InvalidInput, text.TOO_MANY_DEVICES);
  let list: DeviceAddress[];
  try {
    list = devices.map(parseDeviceAddress);
  } catch (err) {
    if (err instanceof DeviceAddressError) throw new ChannelError(ErrorCode.InvalidInput, err.message, { cause: err });
    throw err;
  }
  if (new Set(list.map((d) => d.accountId)).size !== list.length) throw new ChannelError(ErrorCode.InvalidInput, text.SAME_DEVICE_TWICE);
  return list;
}

/** How long Welcomes held back by the relay's rate limit wait before the next try. */
const WELCOME_RETRY_MS = 10_000;

export class DeviceAdds {
  private welcomeRetry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly c: Conversations,
    private readonly epochs: EpochSync,
  ) {}

  /** `welcomeName`: the conversation's name as the newcomers will call it (a direct conversation: our name); else its name here. */
  async addDevices(id: string, devices: readonly unknown[], welcomeName?: string): Promise<void> {
    const c = this.c;
    const list = checkDevices(devices);
    const directory = c.deps.directory;
    if (directory === undefined) throw new ChannelError(ErrorCode.Unavailable, text.NO_DIRECTORY);
    const meta = c.activeMeta(id);
    // Checked again by the commit; here so that no KeyPackage is claimed for a Commit that cannot be made now.
    if (c.pending.has(id)) throw new ChangeInFlight();
    const before = await c.group(id);
    requireRole(rolesView(before).canInvite, text.ONLY_ADMINS_INVITE);
    // A device already added (an add repeated after the worker died, or pressed twice) is not added again (device-add-plan.ts).
    const members = new Set(memberIds(before));
    const plan = planAdds(list, { added: meta.addedDevices, members, proofs: meta, own: c.deps.people?.own });
    if (plan.add.length === 0) {
      await this.postWelcomes(id);
      return;
    }
    const session = directory.session();
    if (session === undefined) throw new ChannelError(ErrorCode.Forbidden, text.SIGN_IN_TO_ADD);
    const api = c.deps.api();
    const claimed: Claimed[] = [];
    for (const device of plan.add) claimed.push(await this.claim(session, device, before));
    // Before the Commit can go out: which leaf each device will be, so that a repeat finds it.
    await c.serial(async () => {
      const m = c.metas.get(id);
      if (m === undefined) return;
      let added = m.addedDevices;
      for (const k of claimed) added = recordIntent(added, members, k.device.accountId, memberIdOf(k.keyPackage.leafNode.signatureKey));
      await c.apply({ metas: [{ ...m, addedDevices: added }] });
    });

    // One mailbox per newcomer, listening to the queue before our Commit is in it.
    const queue = fromB64(meta.queue)!;
    const mailboxes: MailboxCredentials[] = [];
    const drop = (cap: Uint8Array): void => {
      // Best effort: an abandoned registration or mailbox expires at the relay.
      for (const mb of mailboxes) {
        void api.unregisterQueue(queue, cap, mb.mailboxId).catch(() => undefined);
        void api.deleteMailbox(mb).catch(() => undefined);
      }
    };
    try {
      while (mailboxes.length < claimed.length) mailboxes.push(await c.newMailbox());
      const cap = queueCapability(await c.group(id));
      for (const mb of mailboxes) await api.registerQueue(queue, cap, mb);
    } catch (err) {
      drop(queueCapability(await c.group(id)));
      throw relayProblem(err, text.Activity.addDevices);
    }

    const adds: Proposal[] = claimed.map((k) => ({ proposalType: ProposalType.add, add: { keyPackage: k.keyPackage } }));
    // A leaf an earlier try made whose Welcome was lost can never be joined: it goes in the same Commit (when our role may remove).
    const stranded = rolesView(before).canRemove ? plan.stranded.map((mid) => memberById(before, mid)).filter((m) => m !== undefined) : [];
    const proposals: Proposal[] = [...stranded.map((m) => removeProposal(m.leafIndex)), ...adds];
    let committed: Awaited<ReturnType<EpochSync['commit']>>;
    try {
      committed = await this.epochs.commit(id, { proposals, groupInfo: { ratchetTree: true, externalPub: false } });
    } catch (err) {
      // The Commit did not make it (a race lost, refused, or a KeyPackage the engine refused): nobody was added.
      const state = await c.group(id).catch(() => undefined);
      if (state !== undefined) drop(queueCapability(state));
      if (err instanceof ValidationError) throw new BadKeyPackage({ cause: err });
      throw err;
    }
    if (committed.welcome === undefined) throw new Error('an Add Commit without a Welcome');
    const welcome = encodeMessage(committed.welcome);
    const name = welcomeName ?? c.meta(id).name;
    const envelopes: { mailboxId: string; payload: string }[] = [];
    for (const [i, k] of claimed.entries()) {
      const payload = await sealWelcome(committed.state, k.ref, welcome, { queue: meta.queue, name, mailbox: mailboxes[i]! });
      envelopes.push({ mailboxId: k.device.welcomeMailboxId, payload: toB64(payload) });
    }
    // The devices are members now: their Welcomes are kept until posted, so losing the relay here loses none.
    await c.serial(async () => {
      const m = c.metas.get(id);
      if (m === undefined) return;
      const addedDevices = recordWelcomes(m.addedDevices, claimed.map((k) => k.device.accountId), new Set(memberIds(committed.state)));
      await c.apply({ metas: [{ ...m, pendingWelcomes: [...(m.pendingWelcomes ?? []), ...envelopes], addedDevices }] });
    });
    await this.postWelcomes(id);
  }

  /**
   * Post the Welcomes still waiting in a conversation (or all of them): each
   * is forgotten once the relay has it. Offline, they wait for the next try
   * (ChatService.flush, when the connection is back). Answers how many wait.
   */
  async postWelcomes(only?: string): Promise<number> {
    const c = this.c;
    let waiting = 0;
    for (const meta of [...c.metas.values()]) {
      if ((only !== undefined && meta.id !== only) || meta.pendingWelcomes === undefined) continue;
      for (const w of meta.pendingWelcomes) {
        try {
          await c.deps.wallet().spend((token) => c.deps.api().sendWelcome(w.mailboxId, token, fromB64(w.payload)!));
        } catch (err) {
          const f = classify(err);
          // Refused for good (the mailbox is gone): that device cannot be reached this way; drop it.
          // A refusal for now (rate_limited: the relay's per-minute limits) keeps it: dropping it left a
          // member in the group that never got its Welcome and so could never join.
          if (f.kind === 'refused' && f.relayCode !== 'rate_limited') {
            await this.forgetWelcome(meta.id, w);
            continue;
          }
          if (f.relayCode === 'rate_limited' || f.relayCode === 'try_again') this.retryWelcomesSoon();
          waiting++;
          continue;
        }
        await this.forgetWelcome(meta.id, w);
      }
    }
    if (only !== undefined && waiting > 0) throw new WelcomeNotDelivered();
    return waiting;
  }

  /** One more try a moment from now: an online worker gets no reconnect to flush what a rate limit held back. */
  private retryWelcomesSoon(): void {
    if (this.welcomeRetry !== undefined) return;
    this.welcomeRetry = setTimeout(() => {
      this.welcomeRetry = undefined;
      void this.postWelcomes().catch(() => undefined);
    }, WELCOME_RETRY_MS);
  }

  private async forgetWelcome(id: string, w: { mailboxId: string; payload: string }): Promise<void> {
    const c = this.c;
    await c.serial(async () => {
      const m = c.metas.get(id);
      if (m?.pendingWelcomes === undefined) return;
      const { pendingWelcomes, ...rest } = m;
      const left = pendingWelcomes.filter((x) => x !== w && !(x.mailboxId === w.mailboxId && x.payload === w.payload));
      await c.apply({ metas: [left.length === 0 ? rest : { ...rest, pendingWelcomes: left }] });
    });
  }

  /** One validated KeyPackage of the device (§10.1 against this group, a pseudonymous basic credential, within its lifetime). */
  private async claim(session: string, device: DeviceAddress, state: GroupState): Promise<Claimed> {
    const api = this.c.deps.api();
    let last: unknown;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      let bytes: Uint8Array;
      try {
        bytes = await api.claimKeyPackage(session, device.accountId);
      } catch (err) {
        if (isGone(err)) throw new NoKeyPackage({ cause: err });
        if (classify(err).kind === 'offline') throw new DirectoryOffline({ cause: err });
        throw relayProblem(err, text.Activity.addDevices);
      }
      try {
        const keyPackage = decode(keyPackageCodec, bytes);
        await validateKeyPackage(keyPackage, {
          suite: state.suite,
          version: ProtocolVersion.mls10,
          groupExtensions: state.context.extensions,
          now: BigInt(Math.floor(Date.now() / 1000)),
        });
        // Our leaves carry pseudonyms only (member-names.ts): a package naming someone would put a name in the tree the relay sees.
        if (!isPseudonym(credentialIdentity(keyPackage.leafNode.credential))) throw new BadKeyPackage();
        return { device, keyPackage, ref: makeKeyPackageRef(state.suite, bytes) };
      } catch (err) {
        last = err;
        // An expired package (V-LN-5) is a stale one the relay still held: the next claim may give a fresh one.
        const expired = err instanceof ValidationError && err.cause instanceof ValidationError && err.cause.rule === 'V-LN-5';
        if (!expired) break;
      }
    }
    throw last instanceof BadKeyPackage ? last : new BadKeyPackage({ cause: last });
  }
}
