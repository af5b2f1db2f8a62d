/**
 * Joining a conversation from a Welcome in our Welcome mailbox (someone
 * added this device by one of our KeyPackages; device-adds.ts).
 *
 * Everything in the mailbox is hostile until proven otherwise: anyone with a
 * token can post there. The envelope is parsed strictly, the Welcome must
 * name one of our KeyPackages, the join is the engine's full §12.4.3.1
 * validation (group secrets, GroupInfo signature and confirmation tag,
 * ratchet tree integrity and every leaf, our own leaf, the group id not one
 * we are in), and the conversation details must open under the new epoch's
 * exporter. Any failure is HostileWelcome: the payload is marked seen and
 * nothing else changes. A one-time KeyPackage's private parts are deleted
 * once it joined us; the last-resort one stays.
 *
 * The conversation's mailbox was registered to the queue by whoever added
 * us, before their Commit went out, so every message since that Commit
 * waits there (older-epoch ones, the Add itself, are dropped as unreadable).
 * The adder knows that mailbox's secret, so it could acknowledge (hide)
 * what waits there: once joined we move to a mailbox of our own (register
 * it, read what the handed one still holds, then drop that one from the
 * queue and delete it) before telling the group which mailbox is ours. The
 * reading comes before the dropping because the relay deletes whatever a
 * mailbox still holds of a queue when it is dropped from that queue (a
 * removed member's mailbox keeps nothing): a text posted before our own
 * mailbox was registered would be lost otherwise.
 */
import { dropLinkedHistory, historyMessages, linkedHistory } from './linking/history-port.ts';
import { fromB64, toB64 } from '../bytes.ts';
import { decodeMessage, joinFromWelcome, members, WireFormat, type GroupState } from '../mls/group.ts';
import { decode } from '../mls/codec/codec.ts';
import { keyPackageCodec, type KeyPackageIn } from '../mls/join/key-package.ts';
import { ChannelError, ErrorCode, JOINER_NOTICE } from '../protocol/channel.ts';
import type { ConversationMeta } from './chat-store.ts';
import { rolesView } from './conversation-roles.ts';
import { systemMessage, type Conversations } from './conversations.ts';
import { isStale } from './chat-errors.ts';
import { HostileWelcome } from './directory-errors.ts';
import { classify } from './failure.ts';
import type { Effect } from './inbox.ts';
import type { KeyPackageStore, StoredKeyPackage } from './key-package-store.ts';
import { queueCapability } from './queue-capability.ts';
import type { MailboxCredentials } from './relay-api.ts';
import * as text from './text.ts';
import { openDetails, parseEnvelope, type WelcomeDetails } from './welcome-envelope.ts';
import { SELF_CONVERSATION_NAME } from './device-sync.ts';

export interface Opened {
  state: GroupState;
  details: WelcomeDetails;
  /** base64url KeyPackageRef of the package it used, and that package's record. */
  ref: string;
  record: StoredKeyPackage;
}

const bytesOf = (b64: string): Uint8Array => fromB64(b64) ?? new Uint8Array(0);
const joinedKey = (state: GroupState): string => `${toB64(state.context.groupId)}/${state.context.epoch}`;
/** Welcomes remembered per last-resort package (older ones are forgotten first; the package is replaced long before). */
const MAX_JOINED = 500;

/**
 * Open a Welcome envelope with our KeyPackages: the group state it gives and
 * the conversation details, or HostileWelcome. `liveIds` are the
 * conversations we are in (V-JOIN-5: never join one of them twice).
 */
export async function openWelcome(payload: Uint8Array, store: KeyPackageStore, liveIds: readonly string[]): Promise<Opened> {
  const envelope = parseEnvelope(payload);
  let found: { ref: string; record: StoredKeyPackage } | undefined;
  let state: GroupState;
  try {
    const message = decodeMessage(envelope.welcome);
    if (message.wireFormat !== WireFormat.welcome) throw new HostileWelcome('not a Welcome');
    // One read of the keys, however many newcomers a hostile Welcome lists.
    const ours = await store.refs();
    const ref = message.welcome.secrets.map((s) => toB64(s.newMember)).find((r) => ours.has(r));
    const record = ref === undefined ? undefined : await store.get(ref);
    if (ref !== undefined && record !== undefined) found = { ref, record };
    if (found === undefined) throw new HostileWelcome('the Welcome is for none of our KeyPackages');
    const r = found.record;
    const keyPackage: KeyPackageIn = decode(keyPackageCodec, bytesOf(r.keyPackage));
    state = await joinFromWelcome(
      message,
      keyPackage,
      { initPrivateKey: bytesOf(r.initPrivateKey), encryptionPrivateKey: bytesOf(r.encryptionPrivateKey), signaturePrivateKey: bytesOf(r.signaturePrivateKey) },
      { existingGroupIds: liveIds.map(bytesOf) },
    );
  } catch (err) {
    if (err instanceof HostileWelcome) throw err;
    if (classify(err).kind === 'hostile') throw new HostileWelcome('the Welcome is not valid', { cause: err });
    throw err;
  }
  // A last-resort package joins each epoch of a group once: a replayed Welcome (the relay keeps them) is refused.
  if (found.record.joined?.includes(joinedKey(state)) === true) throw new HostileWelcome('a Welcome already used');
  const details = await openDetails(state, bytesOf(found.ref), envelope.details);
  return { state, details, ...found };
}

/** How long the handed mailbox may take to be read empty before we delete it anyway. */
const DRAIN_MS = 60_000;
const DRAIN_POLL_MS = 250;

export class WelcomeJoin {
  constructor(
    private readonly c: Conversations,
    private readonly drainMs = DRAIN_MS,
  ) {}

  /**
   * Handle one delivery of our Welcome mailbox (inside the chat's serial
   * section). Answers the new conversation and the effects to run once it is
   * stored, or undefined when the Welcome was dropped.
   */
  async receive(hash: string, payload: Uint8Array): Promise<{ id: string; effects: Effect[] } | undefined> {
    const c = this.c;
    const directory = c.deps.directory;
    const store = directory?.keyPackages();
    // Not acknowledged: delivered again once the KeyPackages can be read.
    if (store === undefined) throw new ChannelError(ErrorCode.Unavailable, text.NO_DIRECTORY);
    const live = [...c.metas.values()].filter((m) => m.status === 'active' || m.status === 'joining').map((m) => m.id);
    let opened: Opened;
    try {
      opened = await openWelcome(payload, store, live);
    } catch (err) {
      if (!(err instanceof HostileWelcome)) throw err;
      await c.apply({ seen: [hash] });
      return undefined;
    }
    const { state, details, ref, record } = opened;
    const id = toB64(state.context.groupId);
    const existing = c.metas.get(id);
    const now = Date.now();
    const meta: ConversationMeta = {
      v: 1,
      id,
      name: details.name.trim() || text.UNNAMED_CONVERSATION,
      status: 'active',
      queue: details.queue,
      mailbox: details.mailbox,
      unread: existing?.unread ?? 0,
      lastActivity: now,
      lastUpdate: now,
      nextSeq: existing?.nextSeq ?? 0,
      memberCount: members(state).length,
      epoch: Number(state.context.epoch),
      invites: [],
      pseudonym: record.pseudonym,
      cap: toB64(queueCapability(state)),
      // Our devices' own conversation (device-sync.ts): hidden; what arrives there counts only from our devices.
      ...(details.name === SELF_CONVERSATION_NAME ? { selfSync: true as const } : {}),
      canInvite: rolesView(state).canInvite,
    };
    // A device linked to the person's account may have been handed this conversation's history (linking/history-port.ts).
    const history = historyMessages(meta, await linkedHistory(c.deps.db, c.deps.vault, id));
    const messages = [
      ...history,
      systemMessage(meta, history.length > 0 ? text.HISTORY_FROM_OTHER_DEVICE : JOINER_NOTICE, now),
      systemMessage(meta, text.YOU_WERE_ADDED, now),
    ];
    await c.apply({ metas: [meta], groups: [{ id, state }], messages, seen: [hash] });
    if (history.length > 0) await dropLinkedHistory(c.deps.db, id);
    // Used once: a one-time package's private parts go (a replayed Welcome then names nothing we hold).
    if (!record.lastResort) await store.delete([ref]);
    else await store.put(new Map([[ref, { ...record, joined: [...(record.joined ?? []), joinedKey(state)].slice(-MAX_JOINED) }]]));
    directory!.used();
    c.deps.onMailbox?.({ added: details.mailbox });
    // Added at an epoch that changed the membership: its rejoin slot is ours to know too (the adder stores it).
    return { id, effects: [{ do: 'announceMailbox' }, { do: 'announceTokenKey' }, { do: 'announceProfile' }, { do: 'rejoinSlot', store: false }] };
  }

  /**
   * Move a conversation we joined by Welcome off the mailbox its adder made
   * (see the header). Best effort and never throws: offline, we stay on the
   * handed mailbox, which works, and the group is told about it instead.
   */
  async moveToOwnMailbox(id: string): Promise<void> {
    const c = this.c;
    const api = c.deps.api();
    const handed = c.metas.get(id)?.mailbox;
    if (handed === undefined) return;
    let fresh: MailboxCredentials | undefined;
    try {
      fresh = await c.newMailbox();
      const meta = c.activeMeta(id);
      const queue = fromB64(meta.queue)!;
      // A Commit handled meanwhile rotates the capability: register with the newest one we know.
      await retryStale(() => c.group(id).then((state) => api.registerQueue(queue, queueCapability(state), fresh!)));
      const moved = await c.serial(async () => {
        const m = c.metas.get(id);
        if (m?.status !== 'active' || m.mailbox?.mailboxId !== handed.mailboxId) return false;
        await c.apply({ metas: [{ ...m, mailbox: fresh! }] });
        return true;
      });
      if (!moved) throw new Error('the conversation changed while moving its mailbox');
      c.deps.onMailbox?.({ added: fresh });
    } catch {
      // Best effort: a fresh mailbox left unused expires at the relay.
      if (fresh !== undefined && c.metas.get(id)?.mailbox?.mailboxId !== fresh.mailboxId) void api.deleteMailbox(fresh).catch(() => undefined);
      return;
    }
    // Moved: the group may be told now. The handed mailbox goes in the background, as reading it can take a while.
    void this.dropHanded(id, handed);
  }

  /**
   * Everything posted since our own mailbox was registered reaches it too. What the handed one holds from
   * before is read first (the connection delivers it): dropping it from the queue deletes what it still holds.
   */
  private async dropHanded(id: string, handed: MailboxCredentials): Promise<void> {
    const c = this.c;
    const api = c.deps.api();
    const until = Date.now() + this.drainMs;
    while (Date.now() < until) {
      const left = await api.fetchMailbox(handed, 1).catch(() => []);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    const queue = fromB64(c.metas.get(id)?.queue ?? '');
    // Best effort: deleting the mailbox below drops its registration at the relay all the same.
    if (queue !== null) await retryStale(() => c.group(id).then((state) => api.unregisterQueue(queue, queueCapability(state), handed.mailboxId))).catch(() => undefined);
    c.deps.onMailbox?.({ removed: handed.mailboxId });
    await api.deleteMailbox(handed).catch(() => undefined);
  }
}

/** Run a queue operation again (twice at most) when the relay says the capability moved on. */
async function retryStale(op: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= 2 || !isStale(err)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
