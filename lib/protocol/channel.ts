/**
 * The typed channel between the views (popup, side panel) and the background.
 *
 * Views send intents as requests and get one typed response each; they also
 * hold a live subscription (a runtime Port) on which the background pushes the
 * view state whenever it changes, and new or changed messages as they happen.
 * Nothing secret ever crosses this channel: everything here is what a person
 * may see on screen (names, texts they can read, safety codes), nothing more.
 * The one exception is an invite code, which the person asked for to pass it on.
 */
import type { DeviceAddress, PersonView } from './people.ts';
import { linkValidators, type LinkingState, type LinkRequests } from './linking.ts';
import { backupValidators, type BackupAppState, type BackupRequests } from './backup.ts';
import { DEVICE_KEY_SHAPE, type DeviceRequests } from './devices.ts';
import { richValidators, type DisappearingSummary, type ExpiredEvent, type RichMessageFields, type RichRequests } from './rich-messages.ts';
import { searchValidators, type SearchRequests } from './search.ts';
import { readMentions, type MentionFields, type MentionSpan } from './mentions.ts';
import { attachmentValidators, type AttachmentFields, type AttachmentRequests, type TransferEvent } from './attachments.ts';

export const CHANNEL = 'microchat/v1';
export const LIVE_PORT_NAME = 'microchat/live';

// ---------------------------------------------------------------------------
// View state

export type RelayReachability = 'unknown' | 'checking' | 'reachable' | 'unreachable';

export interface RelayStatus {
  url: string;
  state: RelayReachability;
  /** Milliseconds since the epoch of the last completed check. */
  checkedAt?: number;
  /** Human-readable reason when unreachable. */
  detail?: string;
}

/** The live connection to the relay (WebSocket), as the person should see it. */
export type ConnectionState = 'offline' | 'connecting' | 'online';

export type AccountView =
  | { state: 'none' }
  /**
   * Set up with a lock and not unlocked since the background started (or the
   * relay session expired). `unlockWith: 'passphrase'`: the lock is a
   * passphrase, not the passkey.
   */
  | { state: 'locked'; displayName: string; unlockWith?: 'passphrase' }
  | { state: 'ready'; displayName: string; lockEnabled: boolean; lockMethod?: LockMethod };

/** What protects the data key at rest when the lock is on. */
export type LockMethod = 'passkey' | 'passphrase';

export type ConversationStatus = 'active' | 'joining' | 'removed' | 'left';

export interface ConversationSummary extends DisappearingSummary {
  id: string;
  name: string;
  status: ConversationStatus;
  unread: number;
  memberCount: number;
  /** Milliseconds since the epoch of the last activity (for ordering). */
  lastActivity: number;
  lastMessage?: { preview: string; senderName: string; fromSelf: boolean };
  /** When the person pinned it (ms since the epoch); absent when not pinned. Pinned conversations list first. */
  pinnedAt?: number;
  /** Kept out of the main list, behind "Archived". */
  archived?: boolean;
  /** Set while the conversation is muted: ms since the epoch when the mute ends (MUTE_ALWAYS: never). */
  mutedUntil?: number;
  /**
   * The seq of the last message read here ("read up to"); the first unread is
   * the first text from someone else after it. Absent in conversations read
   * before the marker existed: count back `unread` texts instead.
   */
  readUpTo?: number;
  /** The conversation was ended for everyone by this member ("You" when it was us). */
  endedBy?: string;
  /** False when the roles let only admins invite and we are not one. */
  canInvite?: boolean;
}

/**
 * What a desktop notification may show (the OS keeps what it is given, outside our encryption):
 * the conversation's name and the message, the name only, or nothing but "New message".
 */
export type NotificationContent = 'full' | 'name' | 'none';
/** How long a conversation stays muted; 'always' until it is unmuted. */
export type MuteDuration = '1h' | '8h' | '1w' | 'always';
/** `mutedUntil` of a mute "until I unmute it": far beyond any clock, and still a plain number in a sealed JSON record. */
export const MUTE_ALWAYS = Number.MAX_SAFE_INTEGER;

export interface Settings {
  notifications: boolean;
  /** How long the lock stays open without use (lib/background/unlocked-key.ts). */
  lockTimeout: LockTimeout;
  notificationContent: NotificationContent;
  /** Send read receipts, and show others' (off: neither). Delivery receipts always go. */
  readReceipts: boolean;
  /** Message history in the encrypted backup (issue #19); absent is off, the default. */
  backupHistory?: boolean;
}

/** The lock's timeout choices: 15 minutes, 1 hour or 8 hours without use, or until the browser closes. */
export const LOCK_TIMEOUTS = ['15m', '1h', '8h', 'browser'] as const;
export type LockTimeout = (typeof LOCK_TIMEOUTS)[number];

export interface AppState extends LinkingState, BackupAppState {
  version: string;
  relay: RelayStatus;
  connection: ConnectionState;
  account: AccountView;
  /** Most recent activity first. */
  conversations: ConversationSummary[];
  settings: Settings;
  unreadTotal: number;
  /** A page the person asked to share, waiting for them to pick a conversation and confirm (nothing is sent before). */
  share?: ShareOffer;
  /** One of our other devices removed this one from the account: it sends nothing and offers to wipe itself. */
  removedFromAccount?: boolean;
}

/** "Share this page": what would be sent, and the conversation suggested when it was asked. */
export interface ShareOffer {
  shareId: string;
  url: string;
  /** The page's title as the page set it (may be empty). */
  title: string;
  /** Exactly the message text that confirming sends. */
  text: string;
  /** The most recently active conversation at the moment of asking; it does not follow later messages. */
  suggestedId?: string;
}

export type MessageStatus = 'sending' | 'sent' | 'failed' | 'received';

export interface MessageView extends RichMessageFields, MentionFields, AttachmentFields {
  id: string;
  conversationId: string;
  /** Position in the conversation's history; increases with each message. */
  seq: number;
  kind: 'text' | 'system';
  text: string;
  /** `tag` (a fingerprint prefix) is set when another member's name reads the same: show it after the name. */
  sender: { memberId: string; displayName: string; self: boolean; tag?: string };
  /** Milliseconds since the epoch, as the sender's device claimed inside the encrypted message. */
  sentAt: number;
  status: MessageStatus;
  /** Why sending failed, when status is 'failed'. */
  error?: string;
  /** Our own sent message: every other member's device has it ('delivered'), or every one has read it ('read'). */
  delivery?: 'delivered' | 'read';
}

/**
 * The first line of a joiner's history, a system message. MLS gives a joiner
 * only the epochs from its own on, so what was said before cannot be decrypted
 * or shown. The background stores it when a join by invite completes; the
 * message list recognises it to not also claim "This is the beginning of the
 * conversation" above it.
 */
export const JOINER_NOTICE = "Messages sent before you joined aren't shown.";

export interface MemberView {
  memberId: string;
  displayName: string;
  self: boolean;
  /** Set when another member's name reads the same: the leading digits of the fingerprint, shown after the name. */
  tag?: string;
  /** Fingerprint of this member's signature key, grouped for reading aloud. */
  fingerprint: string;
  /** An admin of the conversation (lib/mls/group/roles.ts). */
  admin?: boolean;
}

export type { DeviceAddress, PersonDeviceView, PersonView, VerificationView } from './people.ts';
export { SAFETY_QR_PREFIX, safetyNumberQrPayload } from './people.ts';
export { parsePresence, type ViewPresence } from './presence.ts';
export { DEVICE_KEY_SHAPE, type DeviceRemovalView, type DeviceRequests, type OwnDeviceView } from './devices.ts';

/** Who may invite: admins only, or every member. */
export type InvitePolicyView = 'admins' | 'everyone';

/**
 * What this member may do, from the roles in the group state. A conversation
 * made before roles has `invitePolicy: null`: every member may remove, end
 * and invite, and nobody can change roles.
 */
export interface ConversationRoles {
  admin: boolean;
  canRemove: boolean;
  canEnd: boolean;
  canInvite: boolean;
  canChangeRoles: boolean;
  invitePolicy: InvitePolicyView | null;
  /** Admins among the members (0 without roles). */
  adminCount: number;
}

export interface ConversationDetail {
  summary: ConversationSummary;
  members: MemberView[];
  /** The members grouped into people (each person's devices together). */
  people: PersonView[];
  /**
   * Safety code: a fingerprint of the group state and every member's
   * signature key. Members compare it out of band; a mismatch means someone
   * sees a different group.
   */
  safetyCode: string;
  epoch: number;
  /** Absent once we are no longer a member. */
  roles?: ConversationRoles;
}

export interface MessagePage {
  messages: MessageView[];
  /** Pass as `beforeSeq` to read older messages; absent when none are left. */
  nextBeforeSeq?: number;
}

export type InviteMode = 'one-time' | 'expiring';

/** How long an expiring invite works, in hours: 1 hour, 1 day, 7 days or 30 days (the relay keeps none longer). */
export const INVITE_EXPIRY_HOURS = [1, 24, 24 * 7, 24 * 30] as const;
export type InviteExpiryHours = (typeof INVITE_EXPIRY_HOURS)[number];
/** A one-time invite offers no choice: it works once, within this many hours. */
export const ONE_TIME_INVITE_HOURS = 24 * 7;

/** A live invite of a conversation, as the invite dialog lists it (never its key). */
export interface InviteView {
  inviteId: string;
  mode: InviteMode;
  /** Unix ms. */
  expiresAt: number;
}

// ---------------------------------------------------------------------------
// Requests

/** Every request a view may make, with its parameters and result. */
export interface RequestMap extends LinkRequests, DeviceRequests, RichRequests<MessageView>, BackupRequests, SearchRequests, AttachmentRequests<MessageView> {
  'state.get': { params: null; result: AppState };
  'relay.check': { params: null; result: RelayStatus };
  'settings.setRelayUrl': { params: { url: string }; result: AppState };
  'settings.setNotifications': { params: { enabled: boolean }; result: AppState };

  /** Begin passkey registration; the view runs WebAuthn with the options. */
  'account.registrationOptions': { params: { displayName: string }; result: { options: unknown } };
  'account.completeRegistration': { params: { displayName: string; response: unknown }; result: AppState };
  /** Unlock a passkey-locked background; the view runs WebAuthn (with PRF) and passes the assertion. */
  'account.unlockOptions': { params: null; result: { options: unknown } };
  'account.unlock': { params: { response: unknown }; result: AppState };
  'account.unlockPassphrase': { params: { passphrase: string }; result: AppState };

  /** Turning the lock on with the passkey: options for a local ceremony that evaluates PRF. */
  'lock.enableOptions': { params: null; result: { options: unknown } };
  /** Turn the lock on (rotates the data key): with that ceremony's response, or with a passphrase. */
  'lock.enable': { params: { response: unknown } | { passphrase: string }; result: AppState };
  /** Turn the lock off (rotates the data key to a device key kept beside the data). */
  'lock.disable': { params: null; result: AppState };
  /** Change our display name; every conversation is told inside its encryption. */
  'account.setDisplayName': { params: { displayName: string }; result: AppState };

  'conversation.create': { params: { name: string }; result: { conversationId: string } };
  'conversation.rename': { params: { conversationId: string; name: string }; result: null };
  'conversation.get': { params: { conversationId: string }; result: ConversationDetail };
  'conversation.markRead': { params: { conversationId: string }; result: null };
  'conversation.removeMember': { params: { conversationId: string; memberId: string }; result: null };
  'conversation.leave': { params: { conversationId: string }; result: null };
  /** Delete for me: leave (if still a member) and remove the conversation from this device; the others keep it. */
  'conversation.delete': { params: { conversationId: string }; result: null };

  /** An expiring invite takes one of INVITE_EXPIRY_HOURS; a one-time invite takes none (ONE_TIME_INVITE_HOURS). */
  'invite.create': {
    params: { conversationId: string; mode: 'one-time' } | { conversationId: string; mode: 'expiring'; expiresInHours: InviteExpiryHours };
    result: { link: string; expiresAt: number; inviteId: string };
  };
  'invite.join': { params: { link: string }; result: { conversationId: string } };
  /** `revoked`: earlier invites were revoked because a member was removed or left. */
  'invite.list': { params: { conversationId: string }; result: { invites: InviteView[]; revoked: boolean } };
  'invite.revoke': { params: { conversationId: string; inviteId: string }; result: null };
  /**
   * The code of an open invite, to copy it again. It carries the invite's key:
   * answered only to our own extension pages, like every request here (channel-server.ts).
   */
  'invite.link': { params: { conversationId: string; inviteId: string }; result: { link: string } };

  'messages.page': { params: { conversationId: string; beforeSeq: number | null; limit: number }; result: MessagePage };
  /** `mentions`: who the text names with "@" (mentions.ts). */
  'message.send': { params: { conversationId: string; text: string; mentions?: MentionSpan[] }; result: MessageView };
  'message.retry': { params: { conversationId: string; messageId: string }; result: MessageView };

  /** Pin or unpin, archive or unarchive: where the conversation sits in this person's list. */
  'conversation.setPinned': { params: { conversationId: string; pinned: boolean }; result: null };
  'conversation.setArchived': { params: { conversationId: string; archived: boolean }; result: null };
  /** Send the offered page to the conversation the person chose; `shareId` must be the offer on screen. */
  'share.send': { params: { shareId: string; conversationId: string }; result: MessageView };
  'share.cancel': { params: { shareId: string }; result: null };
  /** Lock now: forget the unlocked data key (the lock must be on). */
  'lock.now': { params: null; result: AppState };
  /** How long the lock stays open without use. */
  'lock.setTimeout': { params: { timeout: LockTimeout }; result: AppState };
  'settings.setNotificationContent': { params: { content: NotificationContent }; result: AppState };
  /** Mute a conversation's notifications for a while ('off' unmutes); unread counts go on. */
  'conversation.mute': { params: { conversationId: string; duration: MuteDuration | 'off' }; result: null };
  'settings.setReadReceipts': { params: { enabled: boolean }; result: AppState };
  /** Try the relay now instead of at the end of the back-off (Retry now, the browser back online). */
  'connection.retry': { params: null; result: null };
  /** Wipe this device's data (the account stays at the relay and in its conversations). */
  'account.signOut': { params: null; result: AppState };
  /** Leave every conversation, delete the account at the relay, then wipe this device's data. */
  'account.delete': { params: null; result: AppState };
  /** Admins only: make a member an admin, or not (ourselves: step down while another admin remains). */
  'conversation.setAdmin': { params: { conversationId: string; memberId: string; admin: boolean }; result: null };
  /** Admins only: who may invite. */
  'conversation.setInvitePolicy': { params: { conversationId: string; policy: InvitePolicyView }; result: null };
  /** Admins only: remove everyone, delete the queue at the relay and the conversation here. */
  'conversation.end': { params: { conversationId: string }; result: null };
  /** This device's address (its relay account and Welcome mailbox), for others to add it without a link. */
  'device.address': { params: Record<string, never>; result: DeviceAddress };
  /** Add devices (each by its address) to a conversation: one Add Commit, a Welcome to each. */
  'conversation.addDevices': { params: { conversationId: string; devices: DeviceAddress[] }; result: null };
  /** A new conversation with these devices in it (no link). */
  'conversation.startDirect': { params: { devices: DeviceAddress[]; name: string }; result: { conversationId: string } };
  /** Mark a person verified after comparing the safety number (their current identity key), or not any more. */
  'person.verify': { params: { conversationId: string; personKey: string }; result: null };
  'person.unverify': { params: { conversationId: string; personKey: string }; result: null };
}

export type Method = keyof RequestMap;
export type Params<M extends Method> = RequestMap[M]['params'];
export type Result<M extends Method> = RequestMap[M]['result'];

export interface RequestMessage<M extends Method = Method> {
  channel: typeof CHANNEL;
  method: M;
  params: Params<M>;
}

export const ErrorCode = {
  BadRequest: 'bad-request',
  InvalidInput: 'invalid-input',
  NotFound: 'not-found',
  Forbidden: 'forbidden',
  Locked: 'locked',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ChannelErrorBody {
  code: ErrorCode;
  message: string;
}

export type ResponseMessage<T> = { ok: true; result: T } | { ok: false; error: ChannelErrorBody };

export type LiveEvent =
  | { type: 'state'; state: AppState }
  /** New messages, or messages whose status changed, in one conversation. */
  | { type: 'messages'; conversationId: string; messages: MessageView[] }
  /** The person clicked a notification: the side panel shows this conversation. */
  | { type: 'open'; conversationId: string }
  /** A file's download progress or end (attachments.ts); messages deleted by their expiry (rich-messages.ts). */
  | (TransferEvent | ExpiredEvent);

/** An error a handler throws on purpose; its code and message reach the view. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------
// Strict request parsing

export const LIMITS = {
  displayName: 64,
  conversationName: 80,
  messageText: 4000,
  link: 2048,
  pageSize: 500,
  /** WebAuthn responses are JSON objects; bound their size. */
  webauthnJson: 64 * 1024,
  passphrase: 1024,
} as const;

type Validator<M extends Method> = (p: Record<string, unknown>) => Params<M>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): ChannelError {
  return new ChannelError(ErrorCode.BadRequest, message);
}

function keys(p: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(p)) if (!allowed.includes(k)) throw bad(`unexpected parameter ${k}`);
}

function str(p: Record<string, unknown>, k: string, max: number): string {
  const v = p[k];
  if (typeof v !== 'string') throw bad(`${k} must be a string`);
  if (v.length > max) throw new ChannelError(ErrorCode.InvalidInput, `${k} is too long (at most ${max} characters).`);
  return v;
}

function id(p: Record<string, unknown>, k: string): string {
  const v = str(p, k, 128);
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(v)) throw bad(`${k} is not an id`);
  return v;
}

function int(p: Record<string, unknown>, k: string, min: number, max: number): number {
  const v = p[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`${k} must be an integer in [${min}, ${max}]`);
  return v;
}

function bool(p: Record<string, unknown>, k: string): boolean {
  const v = p[k];
  if (typeof v !== 'boolean') throw bad(`${k} must be a boolean`);
  return v;
}

/** A list of device addresses: 1..50 objects of exactly two relay ids (the background checks them again). */
function deviceAddresses(p: Record<string, unknown>, k: string): DeviceAddress[] {
  const v = p[k];
  if (!Array.isArray(v) || v.length === 0 || v.length > 50) throw bad(`${k} must be a list of 1 to 50 device addresses`);
  return v.map((d: unknown) => {
    if (!isRecord(d)) throw bad(`${k} holds a device address that is not an object`);
    keys(d, ['accountId', 'welcomeMailboxId']);
    const out = { accountId: id(d, 'accountId'), welcomeMailboxId: id(d, 'welcomeMailboxId') };
    if (out.accountId.length !== 22 || out.welcomeMailboxId.length !== 22) throw bad(`${k} holds an id that is not a relay id`);
    return out;
  });
}

function json(p: Record<string, unknown>, k: string): unknown {
  const v = p[k];
  if (!isRecord(v)) throw bad(`${k} must be an object`);
  if (JSON.stringify(v).length > LIMITS.webauthnJson) throw bad(`${k} is too large`);
  return v;
}

const VALIDATORS: { [M in Method]: Validator<M> | null } = {
  'state.get': null,
  'relay.check': null,
  'settings.setRelayUrl': (p) => (keys(p, ['url']), { url: str(p, 'url', LIMITS.link) }),
  'settings.setNotifications': (p) => (keys(p, ['enabled']), { enabled: bool(p, 'enabled') }),
  'account.registrationOptions': (p) => (keys(p, ['displayName']), { displayName: str(p, 'displayName', LIMITS.displayName) }),
  'account.completeRegistration': (p) => (
    keys(p, ['displayName', 'response']), { displayName: str(p, 'displayName', LIMITS.displayName), response: json(p, 'response') }
  ),
  'account.unlockOptions': null,
  'account.unlock': (p) => (keys(p, ['response']), { response: json(p, 'response') }),
  'account.unlockPassphrase': (p) => (keys(p, ['passphrase']), { passphrase: str(p, 'passphrase', LIMITS.passphrase) }),
  'lock.enableOptions': null,
  'lock.enable': (p) => {
    if (Object.hasOwn(p, 'passphrase')) return (keys(p, ['passphrase']), { passphrase: str(p, 'passphrase', LIMITS.passphrase) });
    return (keys(p, ['response']), { response: json(p, 'response') });
  },
  'lock.disable': null,
  'account.setDisplayName': (p) => (keys(p, ['displayName']), { displayName: str(p, 'displayName', LIMITS.displayName) }),
  'conversation.create': (p) => (keys(p, ['name']), { name: str(p, 'name', LIMITS.conversationName) }),
  'conversation.rename': (p) => (
    keys(p, ['conversationId', 'name']), { conversationId: id(p, 'conversationId'), name: str(p, 'name', LIMITS.conversationName) }
  ),
  'conversation.get': (p) => (keys(p, ['conversationId']), { conversationId: id(p, 'conversationId') }),
  'conversation.markRead': (p) => (keys(p, ['conversationId']), { conversationId: id(p, 'conversationId') }),
  'conversation.removeMember': (p) => (
    keys(p, ['conversationId', 'memberId']), { conversationId: id(p, 'conversationId'), memberId: id(p, 'memberId') }
  ),
  'conversation.leave': (p) => (keys(p, ['conversationId']), { conversationId: id(p, 'conversationId') }),
  'conversation.delete': (p) => (keys(p, ['conversationId']), { conversationId: id(p, 'conversationId') }),
  'invite.create': (p) => {
    if (p.mode === 'one-time') return (keys(p, ['conversationId', 'mode']), { conversationId: id(p, 'conversationId'), mode: p.mode });
    if (p.mode !== 'expiring') throw bad('mode must be one-time or expiring');
    keys(p, ['conversationId', 'mode', 'expiresInHours']);
    const hours = INVITE_EXPIRY_HOURS.find((h) => h === p.expiresInHours);
    if (hours === undefined) throw bad(`expiresInHours must be one of ${INVITE_EXPIRY_HOURS.join(', ')}`);
    return { conversationId: id(p, 'conversationId'), mode: p.mode, expiresInHours: hours };
  },
  'invite.join': (p) => (keys(p, ['link']), { link: str(p, 'link', LIMITS.link) }),
  'invite.list': (p) => (keys(p, ['conversationId']), { conversationId: id(p, 'conversationId') }),
  'invite.revoke': (p) => (
    keys(p, ['conversationId', 'inviteId']), { conversationId: id(p, 'conversationId'), inviteId: id(p, 'inviteId') }
  ),
  'invite.link': (p) => (
    keys(p, ['conversationId', 'inviteId']), { conversationId: id(p, 'conversationId'), inviteId: id(p, 'inviteId') }
  ),
  'messages.page': (p) => {
    keys(p, ['conversationId', 'beforeSeq', 'limit']);
    const beforeSeq = p.beforeSeq === null ? null : int(p, 'beforeSeq', 0, Number.MAX_SAFE_INTEGER);
    return { conversationId: id(p, 'conversationId'), beforeSeq, limit: int(p, 'limit', 1, LIMITS.pageSize) };
  },
  'message.send': (p) => (
    keys(p, ['conversationId', 'text', 'mentions']), readMentions(p, { conversationId: id(p, 'conversationId'), text: str(p, 'text', LIMITS.messageText) }, { id, bad })
  ),
  'message.retry': (p) => (
    keys(p, ['conversationId', 'messageId']), { conversationId: id(p, 'conversationId'), messageId: id(p, 'messageId') }
  ),
  'conversation.setPinned': (p) => (
    keys(p, ['conversationId', 'pinned']), { conversationId: id(p, 'conversationId'), pinned: bool(p, 'pinned') }
  ),
  'conversation.setArchived': (p) => (
    keys(p, ['conversationId', 'archived']), { conversationId: id(p, 'conversationId'), archived: bool(p, 'archived') }
  ),
  'share.send': (p) => (keys(p, ['shareId', 'conversationId']), { shareId: id(p, 'shareId'), conversationId: id(p, 'conversationId') }),
  'share.cancel': (p) => (keys(p, ['shareId']), { shareId: id(p, 'shareId') }),
  'lock.now': null,
  'lock.setTimeout': (p) => {
    keys(p, ['timeout']);
    if (typeof p.timeout !== 'string' || !(LOCK_TIMEOUTS as readonly string[]).includes(p.timeout)) throw bad('timeout must be 15m, 1h, 8h or browser');
    return { timeout: p.timeout as LockTimeout };
  },
  'settings.setNotificationContent': (p) => {
    keys(p, ['content']);
    if (p.content !== 'full' && p.content !== 'name' && p.content !== 'none') throw bad('content must be full, name or none');
    return { content: p.content };
  },
  'conversation.mute': (p) => {
    keys(p, ['conversationId', 'duration']);
    const d = p.duration;
    if (d !== '1h' && d !== '8h' && d !== '1w' && d !== 'always' && d !== 'off') throw bad('duration must be 1h, 8h, 1w, always or off');
    return { conversationId: id(p, 'conversationId'), duration: d };
  },
  'settings.setReadReceipts': (p) => {
    keys(p, ['enabled']);
    if (typeof p.enabled !== 'boolean') throw bad('enabled must be a boolean');
    return { enabled: p.enabled };
  },
  'connection.retry': null,
  'account.signOut': null,
  'account.delete': null,
  'conversation.setAdmin': (p) => {
    keys(p, ['conversationId', 'memberId', 'admin']);
    if (typeof p.admin !== 'boolean') throw bad('admin must be a boolean');
    return { conversationId: id(p, 'conversationId'), memberId: id(p, 'memberId'), admin: p.admin };
  },
  'conversation.setInvitePolicy': (p) => {
    keys(p, ['conversationId', 'policy']);
    if (p.policy !== 'admins' && p.policy !== 'everyone') throw bad('policy must be admins or everyone');
    return { conversationId: id(p, 'conversationId'), policy: p.policy };
  },
  'conversation.end': (p) => (keys(p, ['conversationId']), { conversationId: id(p, 'conversationId') }),
  'device.address': (p) => (keys(p, []), {}),
  'conversation.addDevices': (p) => (
    keys(p, ['conversationId', 'devices']), { conversationId: id(p, 'conversationId'), devices: deviceAddresses(p, 'devices') }
  ),
  'conversation.startDirect': (p) => (
    keys(p, ['devices', 'name']), { devices: deviceAddresses(p, 'devices'), name: str(p, 'name', LIMITS.conversationName) }
  ),
  'person.verify': (p) => (keys(p, ['conversationId', 'personKey']), { conversationId: id(p, 'conversationId'), personKey: personKey(p) }),
  'person.unverify': (p) => (keys(p, ['conversationId', 'personKey']), { conversationId: id(p, 'conversationId'), personKey: personKey(p) }),
  ...linkValidators({ keys, str, bool }),
  'devices.list': null,
  'devices.remove': (p) => (keys(p, ['deviceKey']), { deviceKey: deviceKey(p) }),
  ...richValidators<MessageView>({ keys, str, id, bad }, LIMITS.messageText),
  ...attachmentValidators<MessageView>({ keys, str, id, int, bad }),
  ...backupValidators({ keys, str, bool }),
  ...searchValidators({ keys, str, id }),
};

function deviceKey(p: Record<string, unknown>): string {
  const v = str(p, 'deviceKey', 43);
  if (!DEVICE_KEY_SHAPE.test(v)) throw bad('deviceKey is not a device key');
  return v;
}

/** A PersonView's key: an identity key, or 'leaf:' + a member id. */
function personKey(p: Record<string, unknown>): string {
  const v = str(p, 'personKey', 160);
  if (!/^(leaf:)?[A-Za-z0-9_-]{1,128}$/.test(v)) throw bad('personKey is not a person key');
  return v;
}

/**
 * Strictly parse an incoming request. Anything that is not exactly one of our
 * requests is rejected, so a confused or hostile sender cannot reach a handler
 * with unexpected shapes.
 */
export function parseRequest(raw: unknown): RequestMessage {
  if (!isRecord(raw) || raw.channel !== CHANNEL) throw bad('not a MicroChat request');
  const { method, params } = raw;
  if (typeof method !== 'string' || !Object.hasOwn(VALIDATORS, method)) throw bad('unknown method');
  const validate = VALIDATORS[method as Method] as Validator<Method> | null;
  if (validate === null) {
    if (params !== null) throw bad(`${method} takes no parameters`);
    return { channel: CHANNEL, method: method as Method, params: null } as RequestMessage;
  }
  if (!isRecord(params)) throw bad(`${method} takes an object of parameters`);
  return { channel: CHANNEL, method: method as Method, params: validate(params) } as RequestMessage;
}
