/**
 * Every sentence the chat service shows a person: system messages in a
 * conversation, and the errors its requests answer with. One file, so that
 * they can be translated in one place; the code only ever refers to these.
 *
 * (Some sentences live beside the rule they word, and are imported from there:
 * epoch-notes.ts, token-key-watch.ts; JOINER_NOTICE is in the view contract, lib/protocol/channel.ts.)
 */

// -- system messages --------------------------------------------------------

export const created = (name: string): string => `You created “${name}”.`;
export const youRenamed = (name: string): string => `You renamed the conversation to “${name}”.`;
export const renamed = (by: string, name: string): string => `${by} renamed the conversation to “${name}”.`;
export const joined = (who: string): string => `${who} joined.`;
export const nowCalled = (before: string, after: string): string => `${before} is now called ${after}.`;
/** The first name we learn of a member we announced by a placeholder. */
export const isNamed = (placeholder: string, name: string): string => `${placeholder} is ${name}.`;
export const YOU_JOINED = 'You joined the conversation.';
export const YOU_LEFT = 'You left the conversation.';
export const youAreNowCalled = (name: string): string => `You are now called ${name}.`;
/** A message we could not handle because of a fault of ours (not the sender's): it was skipped. */
export const SKIPPED_BY_FAULT = 'A message here could not be read because of a fault in MicroChat, not the sender’s; it was skipped.';

// -- names -----------------------------------------------------------------

/** How our own actions are attributed ("You removed Bob", ended by "You"). */
export const YOU = 'You';
/** A member whose name we cannot tell. */
export const SOMEONE = 'Someone';
/** A conversation whose invite carried no name. */
export const UNNAMED_CONVERSATION = 'Conversation';

// -- errors answered to a request --------------------------------------------

export const SIGNED_OUT = 'This account is signed out.';
export const NO_SUCH_CONVERSATION = 'That conversation does not exist.';
export const NOT_A_MEMBER = 'You are no longer in this conversation.';
export const NAME_NEEDED = 'Give the conversation a name.';
export const EMPTY_MESSAGE = 'The message is empty.';
export const NO_SUCH_MESSAGE = 'That message does not exist.';
export const CANNOT_RESEND = 'That message can no longer be sent.';
export const NO_SUCH_PERSON = 'That person is not in this conversation.';
export const REMOVE_SELF = 'To remove yourself, leave the conversation.';
export const ONLY_ADMINS_REMOVE = 'Only admins can remove people from this conversation.';
export const ONLY_ADMINS_INVITE = 'Only admins can invite people to this conversation.';
export const ONLY_ADMINS_ROLES = 'Only admins can change who is an admin.';
export const ONLY_ADMINS_POLICY = 'Only admins can change who may invite.';
export const ONLY_ADMINS_END = 'Only admins can end this conversation for everyone.';

// Commits and their confirmation by the relay's order (epoch-sync.ts).
export const NOT_CONFIRMED_YET = 'The change was sent but the relay has not confirmed it yet; it will apply when it does.';
export const CHANGE_IN_FLIGHT = 'Another change to this conversation is still being confirmed.';
export const CHANGE_IN_FLIGHT_RETRY = 'A change to this conversation is still being confirmed; try again in a moment.';
export const LOST_RACE = 'Someone else changed the conversation at the same time; try again.';
export const JOIN_CONFLICT = 'The conversation changed while you were joining; open the link again.';

// Why a queued message failed (outbox.ts).
export const CHANGED_BEFORE_SENT = 'The conversation changed before this message went out; send it again.';
export const QUEUE_GONE = 'This conversation no longer exists on the relay.';
export const refusedMessage = (code: string): string => `The relay refused the message (${code}).`;
export const NOT_SENT = 'The message could not be sent.';

// Invites and joining.
export const INVITE_CLOSED = 'That invite is no longer open: it was used, revoked or has expired.';
export const NO_SUCH_INVITE = 'That invite does not exist any more.';
export const INVITE_EXPIRED = 'This invite has expired or was already used. Ask for a new link.';
export const INVITE_DAMAGED = 'This invite is damaged; ask for a new link.';
export const INVITE_INVALID = 'This invite does not describe a valid conversation.';
export const otherRelay = (invite: string, ours: string): string => `This invite is for the relay ${invite}; your account is on ${ours}.`;
export const ALREADY_JOINING = 'You are already joining this conversation.';

// A request that needed the relay (chat-errors.ts `relayProblem`): `what` is one of the activities below.
export const offline = (what: Activity): string => `You are offline: ${what} needs the relay.`;
export const relayRefused = (reason: string): string => `The relay refused: ${reason}`;
export const couldNot = (what: Activity): string => `Something went wrong while ${what}.`;

export const Activity = {
  create: 'creating a conversation',
  revokeInvites: 'revoking the invites',
  changeGroup: 'changing the group',
  createInvite: 'creating an invite',
  revokeInvite: 'revoking the invite',
  join: 'joining',
  leave: 'leaving',
  delete: 'deleting the conversation',
  end: 'ending the conversation',
  address: "preparing this device's address",
  addDevices: 'adding people',
} as const;
export type Activity = (typeof Activity)[keyof typeof Activity];

// -- the directory: adding devices without a link (device-adds.ts, welcome-join.ts) --

export const NO_DIRECTORY = 'Adding people without a link is not available on this device.';
export const NO_KEY_PACKAGE = 'That device cannot be added right now: it has no keys left at the relay. Try again once it has been online.';
export const BAD_KEY_PACKAGE = "That device's keys at the relay are not valid, so it was not added.";
export const WELCOME_NOT_DELIVERED = 'Added. The invitation goes out to their device as soon as the relay can be reached.';
export const NO_DEVICES = 'Choose at least one device to add.';
export const TOO_MANY_DEVICES = 'Add fewer devices at once.';
export const SAME_DEVICE_TWICE = 'The same device is listed twice.';
export const SIGN_IN_TO_ADD = 'Sign in again to add people without a link.';
export const YOU_WERE_ADDED = 'You were added to the conversation.';
// People and their identity keys (identity/).
export const identityChanged = (who: string): string =>
  `${who}'s identity changed since you verified them. Compare your safety number again before you trust this conversation.`;
export const unvouchedDevice = (who: string): string =>
  `A device that says it is ${who}'s is not vouched for by ${who}'s identity. Compare your safety number with ${who} again.`;
export const NO_PROOF = 'This member has not proved an identity yet, so there is nothing to verify.';
export const VERIFY_SELF = 'You do not need to verify yourself.';
// Linking a device (lib/background/linking/).
export const addingDevice = (name: string, done: number, total: number): string => `Adding ${name} to ${done} of ${total} conversations…`;
export const THIS_DEVICE = 'this device';
export const addingThisDevice = (done: number, total: number): string => addingDevice(THIS_DEVICE, done, total);
export const LINK_CODE_BAD = 'That is not a link code. Check it and type it again.';
export const LINK_CODE_EXPIRED = 'This link code has expired or was already used. Show a new code on the other device.';
export const LINK_WRONG_CODE = 'The code did not match. Nothing was shared; show a new code on the other device and try again.';
export const LINK_BROKEN = 'The connection between the two devices was tampered with or broke. Nothing more was shared; start again.';
export const LINK_TIMEOUT = 'The other device did not answer in time. Start again.';
export const LINK_ABORTED = 'The other device stopped linking.';
export const LINK_OFFLINE = 'You are offline: linking a device needs the relay.';
export const LINK_NOT_CONFIRMED = 'The numbers did not match, so nothing was shared.';
export const HISTORY_FROM_OTHER_DEVICE = 'The messages above were copied from your other device when you linked this one.';
export const copyingHistory = (done: number, total: number): string => `Copying history: ${done} of ${total} messages…`;

// -- removing one of our devices (device-removal.ts) --
export const REMOVE_THIS_DEVICE = 'This device cannot remove itself. Remove it from one of your other devices.';
export const REMOVAL_UNDER_WAY = 'Another device is being removed. Try again when that is done.';
export const NO_SUCH_DEVICE = 'That device is not one of yours any more.';
export const DEVICE_REMOVED = 'This device was removed from your account.';
// -- rich messages (docs/rich-messages.md) ------------------------------------

/** In place of a content this version cannot show: malformed, or of a kind it does not know. */
export const CANT_SHOW = "This message can't be shown";
/** In place of a message its sender deleted for everyone. */
export const MESSAGE_DELETED = 'Message deleted';
export const NOT_YOUR_MESSAGE = 'Only its sender can edit or delete a message.';
export const CANT_CHANGE_MESSAGE = 'This message can no longer be changed.';
export const OLD_MESSAGE = 'This message is from an older version of MicroChat: it cannot be replied to, reacted to, edited or deleted for everyone.';

// -- disappearing messages (disappearing.ts) -----------------------------------

const TIMER_LABELS: Record<number, string> = { 300: '5 minutes', 3600: '1 hour', 86400: '1 day', 604800: '1 week' };
/** A member (or "You") set the conversation's timer; 0 turns it off. */
export const timerSet = (by: string, seconds: number): string =>
  seconds === 0 ? `${by} turned off disappearing messages.` : `${by} set messages to disappear after ${TIMER_LABELS[seconds] ?? `${seconds} seconds`}.`;
