/**
 * Roles of a conversation as the background uses them: what a new group
 * starts with, what this member may do (so the views offer only that, and a
 * request for more is refused before any Commit is built), and the
 * GroupContextExtensions proposals that change them.
 *
 * The rules themselves are the engine's (lib/mls/group/role-rules.ts, V-ROLE-*):
 * every member checks every Commit, so nothing here is what keeps a hostile
 * member out; it only keeps an honest client from trying.
 *
 * A conversation made before roles existed has none: every member may remove,
 * end and invite, as before, and nobody can change that (V-ROLE-8).
 */
import type { CipherSuite } from '../crypto/provider.ts';
import type { Capabilities } from '../mls/tree/leaf-node.ts';
import {
  defaultCapabilities,
  InvitePolicy,
  isAdminLeaf,
  members,
  ROLES_EXTENSION_TYPE,
  rolesExtension,
  rolesOf,
  withAdmin,
  withoutAdmin,
  type GroupState,
  type Roles,
} from '../mls/group.ts';
import { ProposalType, type Proposal } from '../mls/group/proposals.ts';
import type { LeafIndex } from '../mls/tree/tree-math.ts';
import { credentialIdentity } from '../mls/tree/leaf-node-validation.ts';
import type { Extension } from '../mls/group/extensions.ts';
import { ChannelError, ErrorCode, type ConversationRoles, type InvitePolicyView } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';

/** Our leaves say they understand the roles extension, or no group could carry it (V-GCE-2). */
export function roleCapabilities(suite: CipherSuite): Capabilities {
  return defaultCapabilities(suite, { extensions: [ROLES_EXTENSION_TYPE] });
}

/** A new conversation: its creator (this identity) is its admin; anyone may invite, as before roles. */
export function creatorRoles(identity: Uint8Array): Extension[] {
  return [rolesExtension({ admins: [identity], invitePolicy: InvitePolicy.everyone })];
}

const policyView = (p: InvitePolicy): InvitePolicyView => (p === InvitePolicy.admins ? 'admins' : 'everyone');

/** Whether the member at `leaf` is an admin (never, in a conversation without roles). */
export function isAdminAt(state: GroupState, leaf: number): boolean {
  const roles = rolesOf(state.context.extensions);
  return roles !== undefined && leaf >= 0 && isAdminLeaf(roles, state.tree.leaf(leaf as LeafIndex));
}

/** What this member may do in the conversation. */
export function rolesView(state: GroupState): ConversationRoles {
  const roles = rolesOf(state.context.extensions);
  if (roles === undefined) {
    return { admin: false, canRemove: true, canEnd: true, canInvite: true, canChangeRoles: false, invitePolicy: null, adminCount: 0 };
  }
  const admin = isAdminLeaf(roles, state.tree.leaf(state.ownLeaf));
  const adminCount = members(state).filter((m) => isAdminLeaf(roles, m.leaf)).length;
  return {
    admin,
    canRemove: admin,
    canEnd: admin,
    canInvite: admin || roles.invitePolicy === InvitePolicy.everyone,
    canChangeRoles: admin,
    invitePolicy: policyView(roles.invitePolicy),
    adminCount,
  };
}

/** Throw a Forbidden ChannelError with `message` unless `allowed`. */
export function requireRole(allowed: boolean, message: string): void {
  if (!allowed) throw new ChannelError(ErrorCode.Forbidden, message);
}

/** The GroupContextExtensions proposal that sets `next` as the roles, keeping every other extension. */
function setRoles(state: GroupState, next: Roles): Proposal {
  const others = state.context.extensions.filter((e) => e.extensionType !== ROLES_EXTENSION_TYPE);
  return { proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [...others, rolesExtension(next)] } };
}

function currentRoles(state: GroupState): Roles {
  const roles = rolesOf(state.context.extensions);
  if (roles === undefined) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_no_roles'));
  return roles;
}

/** Make the member at `leaf` an admin, or not (stepping down when it is us). */
export function adminChange(state: GroupState, leaf: number, admin: boolean): Proposal {
  const roles = currentRoles(state);
  const node = state.tree.leaf(leaf as LeafIndex);
  if (node === undefined) throw new ChannelError(ErrorCode.NotFound, t('bg_err_no_such_person'));
  const id = credentialIdentity(node.credential);
  if (!admin && rolesView(state).adminCount <= 1 && isAdminLeaf(roles, node)) {
    throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_last_admin'));
  }
  return setRoles(state, admin ? withAdmin(roles, id) : withoutAdmin(roles, id));
}

export function invitePolicyChange(state: GroupState, policy: InvitePolicyView): Proposal {
  const roles = currentRoles(state);
  return setRoles(state, { ...roles, invitePolicy: policy === 'admins' ? InvitePolicy.admins : InvitePolicy.everyone });
}

/** Whether the member at `leaf` may invite: anyone without roles or under "everyone", else admins. */
export function mayInvite(state: GroupState, leaf: number): boolean {
  const roles = rolesOf(state.context.extensions);
  return roles === undefined || roles.invitePolicy === InvitePolicy.everyone || isAdminAt(state, leaf);
}

/**
 * Whether the old "close" application message (an end for everyone sent by
 * clients before ending was a Commit) counts from the member at `leaf`:
 * from anyone in a conversation without roles, from an admin otherwise.
 */
export function closeAllowed(state: GroupState, leaf: number): boolean {
  return rolesOf(state.context.extensions) === undefined || isAdminAt(state, leaf);
}

/**
 * When we are the only admin and others stay, the member who becomes admin as
 * we leave (the one longest in the tree, the leftmost leaf), so the
 * conversation is never left without anyone who can remove people. Else undefined.
 */
export function heirIfLastAdmin(state: GroupState): number | undefined {
  const view = rolesView(state);
  if (!view.admin || view.adminCount > 1) return undefined;
  return members(state).find((m) => m.leafIndex !== state.ownLeaf)?.leafIndex;
}
