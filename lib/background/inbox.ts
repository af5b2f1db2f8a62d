/**
 * What a delivery from the relay means for a conversation, as a pure function.
 *
 *   frame(payload)            the clear header: which group, which epoch, a Commit or not
 *   interpret(framed, state)  another member's message, given the conversation's state
 *   ownCommitReturned(p, s)   our own Commit (or external join), confirmed by the relay's order
 *
 * Each returns an `Outcome`: the one transaction to apply (new group state,
 * metadata, messages, the "seen" mark of the payload) and the effects to run
 * afterwards, as data. Nothing here touches the relay, the store or a timer;
 * the chat service loads the state, calls these, applies, and runs the
 * effects (chat-service.ts `receive`). Hostile input is dropped (marked seen);
 * a fault of ours is dropped too, so one message cannot stop the others, but
 * never silently: it is written as a notice and reported (`reportBug`).
 */
import { credentialIdentity, decodeMessage, framedHeader, memberLeaf, members, processMessage, type GroupState, type MLSMessage, type Processed } from '../mls/group.ts';
import { bytesEqual, toB64 } from '../bytes.ts';
import type { ChannelError } from '../protocol/channel.ts';
import type { AppMessage } from './app-messages.ts';
import { readPayload, type Payload } from './mimi-wire.ts';
import { contentMessage, newText, receivedExpiry } from './rich-inbox.ts';
import { scheduleExpiry } from './disappearing.ts';
import type { RichClaim } from './rich-record.ts';
import type { ConversationMeta, InviteRecord, MessageRecord, PendingCommit, Transition } from './chat-store.ts';
import { JoinConflict, LostRace } from './chat-errors.ts';
import { closeAllowed, mayInvite, rolesView } from './conversation-roles.ts';
import { systemMessage, systemRecord } from './conversations.ts';
import { endsConversation, ownCommitRemovals, removalNote, removalsOf, removedYouNote, roleChangeNotes, type Person, type Removal } from './epoch-notes.ts';
import { classify } from './failure.ts';
import { knownAsOf, memberById, memberIdAt, memberIds, memberLabels, ownMemberId, senderIndex } from './group-members.ts';
import { membershipShrank } from './invite-revocation.ts';
import { JOINER_NOTICE } from '../protocol/channel.ts';
import { mailboxesOfRemoved, pruneMailboxes, recordAnnouncement, removedLeaves, someoneJoined } from './member-mailboxes.ts';
import { isPseudonym, labelText, placeholderName, type MemberLabel } from './member-names.ts';
import { queueCapability } from './queue-capability.ts';
import { memberIdOf } from './safety-code.ts';
import type { Delivery } from './receipts.ts';
import type { TokenKeyMessage } from './token-key-watch.ts';
import * as text from './text.ts';
import { learnClaim, newProblems, pruneProofs, vouchedProof } from './identity/member-proofs.ts';
import type { PersonClaim } from './identity/person-proof.ts';
import type { Verified } from './identity/verified-people.ts';
import { isOwnDevice, ownDeviceName, type OwnKeys } from './identity/own-devices.ts';
import type { DeviceSyncAction } from './device-sync-message.ts';
import * as heal from './healing/heal-text.ts';
import { resyncNoteOf } from './healing/resync-note.ts';

/** A delivered MLS message with its clear header read (nothing checked yet). */
export interface Framed {
  /** base64url SHA-256 of the payload: how duplicates and our own echoes are recognised. */
  hash: string;
  message: MLSMessage;
  /** base64url of the group id. */
  groupId: string;
  epoch: bigint;
  isCommit: boolean;
}

/** The conversation's state a delivery is judged against. */
export interface InboxState {
  meta: ConversationMeta;
  /** The current group state (loaded for an active conversation). */
  group: GroupState | undefined;
  /** Our Commit (or external join) waiting for confirmation, if any. */
  pending: PendingCommit | undefined;
  selfName: string;
  readReceipts: boolean;
  now: number;
  /** The people we verified (identity/verified-people.ts): a claim that breaks one is warned about. */
  verified?: ReadonlyMap<string, Verified>;
  /** Our identity key and roster (identity/own-devices.ts): a leaf it vouches for is one of our devices, and speaks as us. */
  own?: OwnKeys;
  /** Our identity key: a Remove of our leaf by a leaf that proved it is the same means this device was removed from the account. */
  ownIdentityKey?: string;
}

/** What to do after the transaction, for the same conversation, in this order. */
export type Effect =
  | { do: 'settle'; hash: string; error?: ChannelError }
  | { do: 'detach'; meta: ConversationMeta }
  | { do: 'unregister'; queue: string; cap: Uint8Array; mailboxIds: string[] }
  | { do: 'revokeInvites'; invites: InviteRecord[] }
  | { do: 'publishInvites' }
  | { do: 'announceMailbox' }
  | { do: 'announceProfile' }
  | { do: 'announceTokenKey' }
  | { do: 'judgeTokenKey'; memberId: string; app: TokenKeyMessage }
  | { do: 'refreshOutbox' }
  | { do: 'commitSoon' }
  | { do: 'sendReceipts' }
  | { do: 'incoming'; meta: ConversationMeta; message: MessageRecord }
  | { do: 'reportBug'; error: unknown }
  | { do: 'identityChanged'; personId: string }
  | { do: 'deviceSync'; sync: DeviceSyncAction }
  | { do: 'removedByOwnDevice' }
  /** This epoch changed the membership: record its rejoin slot (healing/rejoin-slots.ts); `store` it at the relay too. */
  | { do: 'rejoinSlot'; store: boolean };

/** Another member's receipt: claims to count against our own texts (whose records the caller reads). */
export interface ReceiptClaims {
  from: string;
  claims: [messageId: string, kind: Delivery][];
  /** Current members: only they can acknowledge (V-RCPT-*). */
  members: ReadonlySet<string>;
}

export interface Outcome {
  transition: Transition;
  effects: Effect[];
  receipt?: ReceiptClaims;
  /** A reaction, unlike, edit or delete (MIMI content): the caller reads the record it names and applies it (rich-messages.ts). */
  rich?: RichClaim;
}

const dropped = (hash: string): Outcome => ({ transition: { seen: [hash] }, effects: [] });

/** Read a group message's clear header; throws (a DecodeError) for bytes that are not one. Null: not a framed message. */
export function frame(hash: string, payload: Uint8Array): Framed | null {
  const message = decodeMessage(payload);
  const h = framedHeader(message);
  return h === null ? null : { hash, message, groupId: toB64(h.groupId), epoch: h.epoch, isCommit: h.isCommit };
}

/** Another member's message (or a forged or stale one) for a conversation we know. */
export async function interpret(d: Framed, s: InboxState): Promise<Outcome> {
  const { meta, pending } = s;
  if (meta.status === 'joining') {
    // Someone else's Commit at or past the epoch we tried to join: our external Commit lost.
    if (pending !== undefined && d.isCommit && Number(d.epoch) >= pending.baseEpoch) {
      // A resync of a conversation we still hold goes back to how it was; the healer tries again.
      if (meta.rejoining === 'heal') return resyncLost(meta, pending, d.hash);
      return {
        transition: { deleteConversation: meta.id, seen: [d.hash] },
        effects: [{ do: 'settle', hash: pending.hash, error: new JoinConflict() }, { do: 'detach', meta }],
      };
    }
    return dropped(d.hash);
  }
  if (meta.status !== 'active' || s.group === undefined) return dropped(d.hash);
  const state = s.group;
  let processed: Processed;
  try {
    processed = await processMessage(state, d.message);
  } catch (err) {
    // Not for our epoch, forged, or unreadable: nothing to apply.
    if (classify(err).kind === 'hostile') return dropped(d.hash);
    const next: ConversationMeta = { ...meta };
    return { transition: { seen: [d.hash], metas: [next], messages: [systemMessage(next, text.SKIPPED_BY_FAULT, s.now)] }, effects: [{ do: 'reportBug', error: err }] };
  }
  const id = meta.id;
  const next: ConversationMeta = { ...meta, invites: [...meta.invites] };
  const out: Outcome = { transition: { seen: [d.hash], metas: [next], groups: [{ id, state: processed.state }] }, effects: [] };
  const records: MessageRecord[] = [];
  let incoming: MessageRecord | undefined;
  if (processed.kind === 'application') {
    // MIMI content or a JSON AppMessage, told apart by the first octet (mimi-wire.ts).
    incoming = application(readPayload(processed.data, memberIdAt(state, processed.sender), meta.id), processed, s, next, records, out);
  } else if (processed.kind === 'proposal') {
    // A member asked to leave (or another proposal): commit it soon, whoever is first wins.
    out.effects.push({ do: 'commitSoon' });
  } else {
    commit(d, processed, s, next, records, out);
  }
  if (records.length > 0) out.transition.messages = records;
  // Another member's Commit took this epoch; ours is void.
  if (pending !== undefined && processed.kind === 'commit') out.effects.unshift({ do: 'settle', hash: pending.hash, error: new LostRace() });
  if (incoming !== undefined) out.effects.push({ do: 'sendReceipts' }, { do: 'incoming', meta: next, message: incoming });
  return out;
}

/** An application message: edits `next`, adds records and effects; returns a text for the person, if it is one. */
function application(
  payload: Payload,
  processed: Extract<Processed, { kind: 'application' }>,
  s: InboxState,
  next: ConversationMeta,
  records: MessageRecord[],
  out: Outcome,
): MessageRecord | undefined {
  const { meta, now } = s;
  const state = s.group!;
  // The sender is the MLS sender's leaf, whatever the payload says.
  const senderId = memberIdAt(state, processed.sender);
  const labels = memberLabels(state, meta.names, s.selfName);
  const senderLabel = labels.get(senderId);
  // One of our other devices speaks as us: its texts are ours (not unread, no notification, no receipt).
  const mine = isOwnDevice(meta, senderId, s.own);
  const senderName = mine ? text.YOU : labelText(senderLabel);
  const sender = {
    memberId: senderId,
    displayName: mine ? s.selfName : (senderLabel?.displayName ?? text.SOMEONE),
    self: mine,
    ...(senderLabel?.tag === undefined ? {} : { tag: senderLabel.tag }),
  };
  const who = { senderId, sender, senderName, mine };
  if (payload.kind === 'content') {
    // Mentions (mentions.ts): of current members; ours are this device's member id and our other devices'.
    // `labels` has every member of this state (and only them).
    const isSelf = (id: string): boolean => id === ownMemberId(state) || isOwnDevice(meta, id, s.own);
    const people = { isMember: (id: string) => labels.has(id), isSelf, knownAs: knownAsOf(state, labels, s.selfName, isSelf) };
    return contentMessage(payload.content, who, now, next, records, out, people);
  }
  const app: AppMessage | null = payload.app;
  if (app?.t === 'text') {
    // A text of a version before MIMI content: still shown.
    const rec: MessageRecord = { id: app.id, conversationId: meta.id, seq: next.nextSeq++, kind: 'text', text: app.text, sender, sentAt: app.at, status: 'received' };
    // R-RICH-7: it carries no expiry, but the conversation's timer still holds for it.
    const at = receivedExpiry(undefined, next.disappearAfter, now);
    if (at !== undefined) scheduleExpiry(next, rec.seq, at);
    return newText(rec, who, now, next, records);
  }
  if (app?.t === 'rename') {
    next.name = app.name;
    records.push(systemMessage(next, mine ? text.youRenamed(app.name) : text.renamed(senderName, app.name), now));
    next.lastActivity = now;
  } else if (app?.t === 'invite') {
    // Under the "admins" policy an invite from anyone else is not kept current by us.
    if (mayInvite(state, processed.sender) && !next.invites.some((i) => i.inviteId === app.inviteId)) {
      next.invites.push({
        inviteId: app.inviteId,
        key: app.key,
        writeKey: app.writeKey,
        signingKey: app.signingKey,
        expiresAt: app.expiresAt,
        oneTime: app.oneTime,
      });
    }
  } else if (app?.t === 'tokenkey') {
    out.effects.push({ do: 'judgeTokenKey', memberId: sender.memberId, app });
  } else if (app?.t === 'profile') {
    const note = learnName(next, state, senderId, app.name, s.selfName);
    if (note !== undefined) records.push(typeof note === 'string' ? systemMessage(next, note, now) : note);
    // A name we did not show yet: the summary changes, so an open members list reloads.
    if (next.names?.[senderId] !== meta.names?.[senderId]) next.lastActivity = now;
  } else if (app?.t === 'person') {
    learnPerson(next, state, processed.sender, app, s, records, out);
  } else if (app?.t === 'sync') {
    // What we did on another of our devices (device-sync.ts): only a leaf of ours may say so; anyone else's is ignored.
    if (mine) {
      const { v: _v, t: _t, id: _id, at: _at, ...sync } = app;
      out.effects.push({ do: 'deviceSync', sync });
    }
  } else if (app?.t === 'timer') {
    // Any member may set it (disappearing.ts); said in the conversation like a rename.
    if (app.seconds === 0) delete next.disappearAfter;
    else next.disappearAfter = app.seconds;
    records.push(systemMessage(next, text.timerSet(senderName, app.seconds), now));
    next.lastActivity = now;
  } else if (app?.t === 'mailbox') {
    const known = recordAnnouncement(next.memberMailboxes, processed.sender, app.mailboxId);
    if (known !== null) next.memberMailboxes = known;
  } else if (app?.t === 'receipt') {
    // V-RCPT-4: only our own texts count (checked by the caller against their records). Read
    // receipts off: a read counts as delivered.
    const readKind: Delivery = s.readReceipts ? 'read' : 'delivered';
    if (senderId !== '') {
      const claims = [...app.delivered.map((m): [string, Delivery] => [m, 'delivered']), ...app.read.map((m): [string, Delivery] => [m, readKind])];
      out.receipt = { from: senderId, claims, members: new Set(memberIds(processed.state)) };
    }
  } else if (app?.t === 'close' && closeAllowed(state, processed.sender)) {
    // From clients before "End for everyone" was a Commit; in a group with roles only an admin's counts.
    next.status = 'removed';
    next.endedBy = senderName;
    records.push(systemMessage(next, removedYouNote({ id: senderId, label: senderName }, true), now));
    out.transition.groups = [{ id: meta.id, state: null }];
    next.invites = [];
    out.effects.push({ do: 'detach', meta });
  }
  return undefined;
}

/** Another member's Commit: a new epoch, or our removal. */
function commit(d: Framed, processed: Extract<Processed, { kind: 'commit' }>, s: InboxState, next: ConversationMeta, records: MessageRecord[], out: Outcome): void {
  const { meta } = s;
  const state = s.group!;
  if (s.pending !== undefined) out.transition.pending = [{ id: meta.id, value: null }];
  const byId = memberIdAt(state, senderIndex(processed.sender));
  const by = byId === '' ? text.SOMEONE : labelText(memberLabels(state, meta.names, s.selfName).get(byId));
  const removals = removalsOf(processed.removals);
  const ended = processed.removed && endsConversation(state, senderIndex(processed.sender), removals);
  records.push(...describeEpochChange(next, state, processed.state, processed.removed, { id: byId, label: by }, s, removals, ended));
  const resync = processed.removed ? undefined : resyncNoteOf(d.message, processed.state, next.names, s.selfName);
  if (resync !== undefined) records.push(systemMessage(next, resync, s.now));
  if (processed.removed) {
    next.status = 'removed';
    if (ended) next.endedBy = by;
    next.invites = [];
    out.transition.groups = [{ id: meta.id, state: null }]; // forward secrecy: nothing of the group stays on this device
    out.effects.push({ do: 'detach', meta });
    // Only a leaf our roster vouches for: a member replaying our roster with a device key of its own does not count.
    const proof = vouchedProof(meta, byId);
    if (proof !== undefined && s.ownIdentityKey !== undefined && proof.identityKey === s.ownIdentityKey) out.effects.push({ do: 'removedByOwnDevice' });
    return;
  }
  next.cap = toB64(queueCapability(processed.state));
  next.memberMailboxes = pruneMailboxes(next.memberMailboxes, removedLeaves(state, processed.state));
  // Newcomers cannot read what was said before they came: tell them where we listen, and our name.
  const joinedNow = someoneJoined(state, processed.state);
  const revoked = dropInvitesIfShrank(next, state, processed.state);
  if (revoked.length > 0) out.effects.push({ do: 'revokeInvites', invites: revoked });
  out.effects.push({ do: 'publishInvites' });
  if (joinedNow) out.effects.push({ do: 'announceMailbox' }, { do: 'announceProfile' });
  if (joinedNow || revoked.length > 0 || removals.length > 0) out.effects.push({ do: 'rejoinSlot', store: false });
  out.effects.push({ do: 'refreshOutbox' });
  if (processed.state.pendingProposals.length > 0) out.effects.push({ do: 'commitSoon' });
}

/** Our own Commit came back in queue order: its state is now the group's. `group` is the state before it (none while joining). */
export function ownCommitReturned(p: PendingCommit, s: Omit<InboxState, 'pending' | 'readReceipts'>): Outcome {
  const { meta } = s;
  const id = meta.id;
  const next: ConversationMeta = { ...meta };
  const joining = meta.status === 'joining';
  const before = joining ? undefined : s.group;
  const own = before === undefined ? [] : ownCommitRemovals(before, removedLeaves(before, p.state));
  const records = describeEpochChange(next, before, p.state, false, { id: ownMemberId(p.state), label: text.YOU }, s, own);
  // Revoked at the relay before the Commit went out; again here for an invite made meanwhile (a 404 is fine).
  const revoked = before === undefined ? [] : dropInvitesIfShrank(next, before, p.state);
  next.lastUpdate = s.now;
  if (joining && meta.rejoining !== undefined) {
    // A resync (healing/rejoin.ts): the same member again, who may have missed what was said meanwhile.
    next.status = 'active';
    delete next.rejoining;
    records.push(systemMessage(next, heal.MAY_BE_MISSING, s.now));
  } else if (joining) {
    next.status = 'active';
    records.push(systemMessage(next, JOINER_NOTICE, s.now));
    records.push(systemMessage(next, text.YOU_JOINED, s.now));
  }
  // Our Commit removed these leaves: the relay should keep nothing for their mailboxes.
  const gone = before === undefined ? [] : removedLeaves(before, p.state);
  const unregister = mailboxesOfRemoved(meta.memberMailboxes, gone);
  next.memberMailboxes = pruneMailboxes(meta.memberMailboxes, gone);
  const cap = queueCapability(p.state);
  next.cap = toB64(cap);
  const joinedNow = joining || (before !== undefined && someoneJoined(before, p.state));
  const effects: Effect[] = [{ do: 'settle', hash: p.hash }];
  if (unregister.length > 0) effects.push({ do: 'unregister', queue: next.queue, cap, mailboxIds: unregister });
  if (joinedNow) effects.push({ do: 'announceMailbox' });
  if (joinedNow || gone.length > 0) effects.push({ do: 'rejoinSlot', store: true });
  effects.push({ do: 'refreshOutbox' });
  if (revoked.length > 0) effects.push({ do: 'revokeInvites', invites: revoked });
  effects.push({ do: 'publishInvites' });
  if (p.state.pendingProposals.length > 0) effects.push({ do: 'commitSoon' });
  if (joining) effects.push({ do: 'announceTokenKey' });
  // The others know us by a placeholder until we say our name.
  if (joinedNow) effects.push({ do: 'announceProfile' });
  return {
    transition: { metas: [next], groups: [{ id, state: p.state }], pending: [{ id, value: null }], seen: [p.hash], messages: records },
    effects,
  };
}

/** Someone else's Commit took the epoch our resync was for: the conversation goes back to how it was (healing/rejoin.ts). */
function resyncLost(meta: ConversationMeta, pending: PendingCommit, hash: string): Outcome {
  const { rejoining: _r, ...back } = meta;
  return {
    transition: { metas: [{ ...back, status: 'active' }], pending: [{ id: meta.id, value: null }], seen: [hash] },
    effects: [{ do: 'settle', hash: pending.hash, error: new JoinConflict() }],
  };
}

/** A Commit removed someone: forget the open invites (the caller deletes them at the relay). Returns them. */
function dropInvitesIfShrank(next: ConversationMeta, before: GroupState, after: GroupState): InviteRecord[] {
  if (!membershipShrank(before, after) || next.invites.length === 0) return [];
  const gone = next.invites;
  next.invites = [];
  next.invitesRevoked = true;
  return gone;
}

/** System messages for what a new epoch changed, and the metadata that follows from it. */
function describeEpochChange(
  meta: ConversationMeta,
  before: GroupState | undefined,
  after: GroupState,
  removed: boolean,
  by: Person,
  s: { selfName: string; now: number; own?: OwnKeys },
  removals: readonly Removal[] = [],
  ended = false,
): MessageRecord[] {
  const out: MessageRecord[] = [];
  const note = (body: string): void => void out.push(systemMessage(meta, body, s.now));
  meta.epoch = Number(after.context.epoch);
  meta.lastActivity = s.now;
  if (!removed) meta.canInvite = rolesView(after).canInvite;
  const selfName = s.selfName;
  // Who sent each Remove (epoch-notes.ts): the proposer, not always the committer.
  const actorOf = (mid: string): Person | undefined => {
    if (before === undefined) return by;
    const leaf = memberById(before, mid)?.leafIndex;
    const r = removals.find((x) => x.removed === leaf);
    if (r === undefined) return removals.length === 0 ? by : undefined;
    const aid = memberIdAt(before, r.by);
    return aid === '' ? undefined : { id: aid, label: labelText(memberLabels(before, meta.names, selfName).get(aid)) };
  };
  if (removed) {
    const me = before === undefined ? undefined : ownMemberId(before);
    note(removedYouNote(me === undefined ? by : (actorOf(me) ?? by), ended));
    return out;
  }
  const old = before === undefined ? new Map<string, MemberLabel>() : memberLabels(before, meta.names, selfName);
  // Names of members who are gone are forgotten: the map holds current members only.
  const ids = new Set(memberIds(after));
  if (meta.names !== undefined) meta.names = Object.fromEntries(Object.entries(meta.names).filter(([mid]) => ids.has(mid)));
  if (meta.unnamed !== undefined) meta.unnamed = meta.unnamed.filter((mid) => ids.has(mid));
  if (meta.joinNotes !== undefined) meta.joinNotes = Object.fromEntries(Object.entries(meta.joinNotes).filter(([mid]) => ids.has(mid)));
  // Our own devices that leave are named by our roster, read before their proofs go ("You removed your device Firefox on Linux").
  const ownGone = new Map<string, string>();
  // Another person's devices that leave, with the identity vouching for them and the name their roster gives them.
  const theirsGone = new Map<string, { identityKey: string; name: string }>();
  for (const mid of old.keys()) {
    if (ids.has(mid)) continue;
    const name = ownDeviceName(meta, mid, s.own);
    if (name !== undefined) ownGone.set(mid, name);
    const theirs = name === undefined ? vouchedDevice(meta, mid) : undefined;
    if (theirs !== undefined) theirsGone.set(mid, theirs);
  }
  if (meta.proofs !== undefined) Object.assign(meta, pruneProofs(meta, ids));
  const now = memberLabels(after, meta.names, selfName);
  meta.memberCount = now.size;
  const self = ownMemberId(after);
  for (const [mid, label] of now) {
    if (old.has(mid) || mid === self || before === undefined) continue;
    note(text.joined(labelText(label)));
    const leaf = memberById(after, mid)?.leaf;
    if (label.displayName === placeholderName(leaf!.signatureKey)) {
      meta.unnamed = [...(meta.unnamed ?? []), mid];
      const joinedNote = out[out.length - 1]!;
      meta.joinNotes = { ...meta.joinNotes, [mid]: { id: joinedNote.id, seq: joinedNote.seq, at: joinedNote.sentAt } };
    }
  }
  for (const [mid, label] of old) {
    if (now.has(mid)) continue;
    const actor = actorOf(mid);
    const device = ownGone.get(mid);
    // Removed by us or by another of our devices (device-removal.ts runs on any of them): it was the person's own act.
    if (device !== undefined && actor !== undefined && (actor.id === self || ownGone.has(actor.id) || isOwnDevice(meta, actor.id, s.own))) {
      note(text.youRemovedOwnDevice(device));
      continue;
    }
    // A person removing one of their own devices: the remover's leaf (still here) is vouched for by the same identity.
    const theirs = theirsGone.get(mid);
    if (theirs !== undefined && actor !== undefined && actor.id !== self && vouchedProof(meta, actor.id)?.identityKey === theirs.identityKey) {
      // The person's name without a leaf's tag: it is the person who acts here, not one of their leaves.
      note(text.removedOwnDevice(old.get(actor.id)?.displayName ?? actor.label, theirs.name));
      continue;
    }
    note(removalNote({ id: mid, label: labelText(label) }, actor, self));
  }
  if (before !== undefined) {
    const person = (identity: Uint8Array): Person | undefined => {
      const m = members(after).find((x) => bytesEqual(credentialIdentity(x.leaf.credential), identity));
      const mid = m === undefined ? undefined : memberIdOf(m.leaf.signatureKey);
      return mid === undefined ? undefined : { id: mid, label: labelText(now.get(mid)) };
    };
    for (const n of roleChangeNotes(before, after, by, person, self)) note(n);
  }
  // An old name-identity conversation: a credential that changed under the same key is a rename, never silent.
  for (const [mid, label] of now) {
    const was = old.get(mid);
    if (was !== undefined && mid !== self && was.displayName !== label.displayName) note(text.nowCalled(labelText(was), labelText(label)));
  }
  return out;
}

/**
 * A member's profile: remember the name under the sender's member id and say
 * what changed. Silent when the name is the one we show already, and the
 * first time we learn the name of someone who was here before us. The first
 * name of a joiner we announced by placeholder rewrites that "joined" note in
 * place ("Member 35258 joined" becomes "Bob joined", same place in the
 * history), rather than adding "Member 35258 is Bob" under it.
 */
function learnName(meta: ConversationMeta, state: GroupState, memberId: string, name: string, selfName: string): string | MessageRecord | undefined {
  if (memberId === '') return undefined;
  const before = memberLabels(state, meta.names, selfName).get(memberId);
  if (before === undefined) return undefined;
  const known = meta.names?.[memberId] !== undefined;
  const wasUnnamed = meta.unnamed?.includes(memberId) === true;
  meta.names = { ...meta.names, [memberId]: name };
  if (wasUnnamed) meta.unnamed = meta.unnamed!.filter((m) => m !== memberId);
  if (before.displayName === name) return undefined;
  const leaf = memberById(state, memberId)!.leaf;
  const placeholder = !known && leaf.credential.credentialType === 1 && isPseudonym(leaf.credential.identity);
  if (placeholder && !wasUnnamed) return undefined;
  const after = memberLabels(state, meta.names, selfName).get(memberId);
  const joinedNote = meta.joinNotes?.[memberId];
  if (joinedNote !== undefined) {
    meta.joinNotes = Object.fromEntries(Object.entries(meta.joinNotes!).filter(([mid]) => mid !== memberId));
    if (placeholder) return systemRecord(meta.id, joinedNote, text.joined(labelText(after)));
  }
  return placeholder ? text.isNamed(labelText(before), labelText(after)) : text.nowCalled(labelText(before), labelText(after));
}

/**
 * A member's `person` claim (identity/member-proofs.ts): kept under the MLS
 * sender's member id, whatever it says. A claim to be a person we verified
 * that does not hold (or holds for another identity key), or a newer roster
 * that drops a device still here, is said in the conversation once, and the
 * person's mark becomes "changed".
 */
function learnPerson(meta: ConversationMeta, state: GroupState, sender: number, claim: PersonClaim, s: InboxState, records: MessageRecord[], out: Outcome): void {
  const leaf = sender < 0 ? undefined : memberLeaf(state, sender);
  if (leaf === undefined) return;
  const memberId = memberIdOf(leaf.signatureKey);
  const before = { proofs: meta.proofs, rosters: meta.rosters };
  const after = learnClaim(before, memberId, state.context.groupId, leaf.signatureKey, claim);
  meta.proofs = after.proofs;
  meta.rosters = after.rosters;
  // What the members list shows changed: the summary changes too, so an open list reloads.
  const key = after.proofs[memberId]!.identityKey;
  const shown = (r: typeof before): string => JSON.stringify([r.proofs?.[memberId], r.rosters?.[key]]);
  if (shown(before) !== shown(after)) meta.lastActivity = s.now;
  const verified = s.verified ?? new Map<string, Verified>();
  const labels = memberLabels(state, meta.names, s.selfName);
  for (const p of newProblems(before, after, verified)) {
    // Named after a device that still proves the verified identity, else after the member in question.
    const known = Object.keys(after.proofs).find((mid) => vouchedProof(after, mid)?.identityKey === verified.get(p.personId)?.identityKey && after.proofs[mid]!.personId === p.personId);
    const who = known === undefined ? labelText(labels.get(p.memberId)) : (labels.get(known)?.displayName ?? text.SOMEONE);
    records.push(systemMessage(meta, p.kind === 'changed' ? text.identityChanged(who) : text.unvouchedDevice(who), s.now));
    out.effects.push({ do: 'identityChanged', personId: p.personId });
  }
}

/** The identity key vouching for a member's leaf and the name its roster gives the device; undefined without a proof that holds. */
function vouchedDevice(rec: ConversationMeta, memberId: string): { identityKey: string; name: string } | undefined {
  const proof = vouchedProof(rec, memberId);
  const name = proof === undefined ? undefined : rec.rosters?.[proof.identityKey]?.devices.find((d) => d.deviceKey === proof.deviceKey)?.name;
  return proof === undefined || name === undefined ? undefined : { identityKey: proof.identityKey, name };
}
