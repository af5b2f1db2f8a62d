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
 */
import { fromB64, toB64 } from '../bytes.ts';
import { decodeMessage, joinFromWelcome, members, WireFormat, type GroupState } from '../mls/group.ts';
import { decode } from '../mls/codec/codec.ts';
import { keyPackageCodec, type KeyPackageIn } from '../mls/join/key-package.ts';
import { JOINER_NOTICE } from '../protocol/channel.ts';
import type { ConversationMeta } from './chat-store.ts';
import { rolesView } from './conversation-roles.ts';
import { systemMessage, type Conversations } from './conversations.ts';
import { HostileWelcome } from './directory-errors.ts';
import { classify } from './failure.ts';
import type { Effect } from './inbox.ts';
import type { KeyPackageStore, StoredKeyPackage } from './key-package-store.ts';
import { queueCapability } from './queue-capability.ts';
import * as text from './text.ts';
import { openDetails, parseEnvelope, type WelcomeDetails } from './welcome-envelope.ts';

export interface Opened {
  state: GroupState;
  details: WelcomeDetails;
  /** base64url KeyPackageRef of the package it used, and that package's record. */
  ref: string;
  record: StoredKeyPackage;
}

const bytesOf = (b64: string): Uint8Array => fromB64(b64) ?? new Uint8Array(0);

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
    for (const s of message.welcome.secrets) {
      const ref = toB64(s.newMember);
      const record = await store.get(ref);
      if (record !== undefined) {
        found = { ref, record };
        break;
      }
    }
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
  const details = await openDetails(state, bytesOf(found.ref), envelope.details);
  return { state, details, ...found };
}

export class WelcomeJoin {
  constructor(private readonly c: Conversations) {}

  /**
   * Handle one delivery of our Welcome mailbox (inside the chat's serial
   * section). Answers the new conversation and the effects to run once it is
   * stored, or undefined when the Welcome was dropped.
   */
  async receive(hash: string, payload: Uint8Array): Promise<{ id: string; effects: Effect[] } | undefined> {
    const c = this.c;
    const directory = c.deps.directory;
    const store = directory?.keyPackages();
    if (store === undefined) return undefined;
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
      canInvite: rolesView(state).canInvite,
    };
    const messages = [systemMessage(meta, JOINER_NOTICE, now), systemMessage(meta, text.YOU_WERE_ADDED, now)];
    await c.apply({ metas: [meta], groups: [{ id, state }], messages, seen: [hash] });
    // Used once: a one-time package's private parts go (a replayed Welcome then names nothing we hold).
    if (!record.lastResort) await store.delete([ref]);
    directory!.used();
    c.deps.onMailbox?.({ added: details.mailbox });
    return { id, effects: [{ do: 'announceMailbox' }, { do: 'announceTokenKey' }, { do: 'announceProfile' }] };
  }
}
