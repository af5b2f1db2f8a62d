/**
 * Every sentence the chat service shows a person: system messages in a
 * conversation, and the errors its requests answer with. The words are in
 * public/_locales/<lang>/messages.json (keys `bg_…`), in the browser's
 * language, through t() (lib/platform/i18n.ts); the code only ever refers to
 * these names.
 *
 * The constants are read once, when the worker starts (the browser's language
 * does not change under a running worker). System messages are stored as the
 * sentence they read when they happened, so a message keeps the language it
 * was written in if the browser's language changes later.
 *
 * (Some sentences live beside the rule they word, and are imported from there:
 * epoch-notes.ts, token-key-watch.ts; JOINER_NOTICE is in the view contract, lib/protocol/channel.ts, stored in
 * English as a marker and worded by the view, components/MessageItem.svelte.)
 */

import { t, type MessageKey } from '../platform/i18n.ts';

// -- system messages --------------------------------------------------------

export const created = (name: string): string => t('bg_created', name);
export const youRenamed = (name: string): string => t('bg_you_renamed', name);
export const renamed = (by: string, name: string): string => t('bg_renamed', by, name);
export const joined = (who: string): string => t('bg_joined', who);
export const nowCalled = (before: string, after: string): string => t('bg_now_called', before, after);
/** The first name we learn of a member we announced by a placeholder. */
export const isNamed = (placeholder: string, name: string): string => t('bg_is_named', placeholder, name);
export const YOU_JOINED = t('bg_you_joined');
export const YOU_LEFT = t('bg_you_left');
export const youAreNowCalled = (name: string): string => t('bg_you_are_now_called', name);
/** A message we could not handle because of a fault of ours (not the sender's): it was skipped. */
export const SKIPPED_BY_FAULT = t('bg_skipped_by_fault');

// -- names -----------------------------------------------------------------

/** How our own actions are attributed ("You removed Bob", ended by "You"). */
export const YOU = t('common_you');
/** A member whose name we cannot tell. */
export const SOMEONE = t('bg_someone');
/** A conversation whose invite carried no name. */
export const UNNAMED_CONVERSATION = t('bg_unnamed_conversation');

// -- errors answered to a request --------------------------------------------

export const SIGNED_OUT = t('bg_signed_out');
export const NO_SUCH_CONVERSATION = t('bg_no_such_conversation');
export const NOT_A_MEMBER = t('bg_not_a_member');
export const NAME_NEEDED = t('bg_name_needed');
export const EMPTY_MESSAGE = t('bg_empty_message');
export const NO_SUCH_MESSAGE = t('bg_no_such_message');
// Files in conversations (conversation-attachments.ts).
export const FILE_TOO_BIG = t('bg_file_too_big');
export const TRANSFER_CANCELLED = t('bg_transfer_cancelled');
export const NO_FILE = t('bg_no_file');
export const CANNOT_RESEND = t('bg_cannot_resend');
export const NO_SUCH_PERSON = t('bg_no_such_person');
export const REMOVE_SELF = t('bg_remove_self');
export const ONLY_ADMINS_REMOVE = t('bg_only_admins_remove');
export const ONLY_ADMINS_INVITE = t('bg_only_admins_invite');
export const ONLY_ADMINS_ROLES = t('bg_only_admins_roles');
export const ONLY_ADMINS_POLICY = t('bg_only_admins_policy');
export const ONLY_ADMINS_END = t('bg_only_admins_end');

// Commits and their confirmation by the relay's order (epoch-sync.ts).
export const NOT_CONFIRMED_YET = t('bg_not_confirmed_yet');
export const CHANGE_IN_FLIGHT = t('bg_change_in_flight');
export const CHANGE_IN_FLIGHT_RETRY = t('bg_change_in_flight_retry');
export const LOST_RACE = t('bg_lost_race');
export const JOIN_CONFLICT = t('bg_join_conflict');

// Why a queued message failed (outbox.ts).
export const CHANGED_BEFORE_SENT = t('bg_changed_before_sent');
export const QUEUE_GONE = t('bg_queue_gone');
export const refusedMessage = (code: string): string => t('bg_refused_message', code);
export const NOT_SENT = t('bg_not_sent');

// Invites and joining.
export const INVITE_CLOSED = t('bg_invite_closed');
export const NO_SUCH_INVITE = t('bg_no_such_invite');
export const INVITE_EXPIRED = t('bg_invite_expired');
export const INVITE_DAMAGED = t('bg_invite_damaged');
export const INVITE_INVALID = t('bg_invite_invalid');
export const otherRelay = (invite: string, ours: string): string => t('bg_other_relay', invite, ours);
export const ALREADY_JOINING = t('bg_already_joining');

// A request that needed the relay (chat-errors.ts `relayProblem`): `what` is one of the activities below.
export const offline = (what: Activity): string => t('bg_offline', t(what));
export const relayRefused = (reason: string): string => t('bg_relay_refused', reason);
export const couldNot = (what: Activity): string => t('bg_could_not', t(what));

/** Each activity is the key of its words ("creating a conversation"), put into the sentences above. */
export const Activity = {
  create: 'bg_activity_create',
  revokeInvites: 'bg_activity_revoke_invites',
  changeGroup: 'bg_activity_change_group',
  createInvite: 'bg_activity_create_invite',
  revokeInvite: 'bg_activity_revoke_invite',
  join: 'bg_activity_join',
  leave: 'bg_activity_leave',
  delete: 'bg_activity_delete',
  end: 'bg_activity_end',
  address: 'bg_activity_address',
  addDevices: 'bg_activity_add_devices',
} as const satisfies Record<string, MessageKey>;
export type Activity = (typeof Activity)[keyof typeof Activity];

// -- the directory: adding devices without a link (device-adds.ts, welcome-join.ts) --

export const NO_DIRECTORY = t('bg_no_directory');
export const NO_KEY_PACKAGE = t('bg_no_key_package');
export const BAD_KEY_PACKAGE = t('bg_bad_key_package');
export const WELCOME_NOT_DELIVERED = t('bg_welcome_not_delivered');
export const NO_DEVICES = t('bg_no_devices');
export const TOO_MANY_DEVICES = t('bg_too_many_devices');
export const SAME_DEVICE_TWICE = t('bg_same_device_twice');
export const SIGN_IN_TO_ADD = t('bg_sign_in_to_add');
export const YOU_WERE_ADDED = t('bg_you_were_added');
// People and their identity keys (identity/).
export const identityChanged = (who: string): string => t('bg_identity_changed', who);
export const unvouchedDevice = (who: string): string => t('bg_unvouched_device', who);
export const NO_PROOF = t('bg_no_proof');
export const VERIFY_SELF = t('bg_verify_self');
// Linking a device (lib/background/linking/).
export const addingDevice = (name: string, done: number, total: number): string => t('bg_adding_device', name, done, total);
export const THIS_DEVICE = t('bg_this_device');
export const addingThisDevice = (done: number, total: number): string => addingDevice(THIS_DEVICE, done, total);
export const LINK_CODE_BAD = t('bg_link_code_bad');
export const LINK_CODE_EXPIRED = t('bg_link_code_expired');
export const LINK_WRONG_CODE = t('bg_link_wrong_code');
export const LINK_BROKEN = t('bg_link_broken');
export const LINK_TIMEOUT = t('bg_link_timeout');
export const LINK_ABORTED = t('bg_link_aborted');
export const LINK_OFFLINE = t('bg_link_offline');
export const LINK_NOT_CONFIRMED = t('bg_link_not_confirmed');
export const HISTORY_FROM_OTHER_DEVICE = t('bg_history_from_other_device');
export const copyingHistory = (done: number, total: number): string => t('bg_copying_history', done, total);

// -- removing one of our devices (device-removal.ts) --
export const REMOVE_THIS_DEVICE = t('bg_remove_this_device');
export const REMOVAL_UNDER_WAY = t('bg_removal_under_way');
export const NO_SUCH_DEVICE = t('bg_no_such_device');
export const DEVICE_REMOVED = t('bg_device_removed');
/** The system message where one of our devices' leaves left by our (or our other device's) Remove: the device by its name, not its leaf's label. */
export const youRemovedOwnDevice = (device: string): string => t('bg_you_removed_own_device', device);
/** Another person removed one of their own devices (the Remove's sender and the leaf are vouched for by the same identity): named by their roster. */
export const removedOwnDevice = (by: string, device: string): string => t('bg_removed_own_device', by, device);

// -- rich messages (docs/rich-messages.md) ------------------------------------

/** In place of a content this version cannot show: malformed, or of a kind it does not know. */
export const CANT_SHOW = t('bg_cant_show');
/** In place of a message its sender deleted for everyone. */
export const MESSAGE_DELETED = t('bg_message_deleted');
export const NOT_YOUR_MESSAGE = t('bg_not_your_message');
export const CANT_CHANGE_MESSAGE = t('bg_cant_change_message');
export const CANT_EDIT_FILE = t('bg_cant_edit_file');
export const OLD_MESSAGE = t('bg_old_message');

// -- disappearing messages (disappearing.ts) -----------------------------------

const TIMER_LABELS: Record<number, () => string> = { 300: () => t('bg_timer_5m'), 3600: () => t('bg_timer_1h'), 86400: () => t('bg_timer_1d'), 604800: () => t('bg_timer_1w') };
const timerLabel = (seconds: number): string => TIMER_LABELS[seconds]?.() ?? t('bg_timer_seconds', seconds);
/** A member set the conversation's timer; 0 turns it off. */
export const timerSet = (by: string, seconds: number): string => (seconds === 0 ? t('bg_timer_off', by) : t('bg_timer_set', by, timerLabel(seconds)));
/** We set it (its own sentence: "You" takes another verb form in other languages). */
export const youSetTimer = (seconds: number): string => (seconds === 0 ? t('bg_timer_you_off') : t('bg_timer_you_set', timerLabel(seconds)));
