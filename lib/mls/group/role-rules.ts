/**
 * MicroChat role rules: which proposals only an admin may send, checked by
 * every member on each Commit (and on each standalone proposal when it
 * arrives), so a hostile member's Commit that breaks them is rejected by
 * everyone else and the group carries on without it. Roles live in the
 * GroupContext (`roles.ts`).
 *
 * Authority is judged on the roles and tree *before* the Commit: a Commit
 * cannot grant its own sender the right to what it does.
 *
 *  - V-ROLE-1 a Remove of another member's leaf comes from an admin
 *             (leaving, a Remove of one's own leaf, is open to all;
 *             so is an external Commit's resync Remove, V-EC-6)
 *  - V-ROLE-2 a change to the roles (or dropping them) comes from an admin
 *  - V-ROLE-3 after a change to the roles, an admin is still a member, and
 *             every admin it adds is a member
 *  - V-ROLE-4 a ReInit comes from an admin
 *  - V-ROLE-5 under the "admins" invite policy, an Add comes from an admin
 *  - V-ROLE-6 a newcomer (Add, external Commit) cannot carry an admin's
 *             identity (else anyone could join as a removed admin, or as a
 *             second copy of a present one)
 *  - V-ROLE-7 the roles in a GroupContextExtensions proposal decode strictly
 *  - V-ROLE-8 roles cannot be added to a group created without them
 *
 * A group created without roles (before roles existed) keeps today's rules:
 * none of the above applies, and nobody can claim it by adding roles (V-ROLE-8).
 */
import { encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { DecodeError, ValidationError } from '../errors.ts';
import type { Extension } from './extensions.ts';
import { SenderType, type Sender } from '../framing/framing.ts';
import { credentialIdentity } from '../tree/leaf-node-validation.ts';
import type { LeafNodeIn } from '../tree/leaf-node.ts';
import { ProposalType } from './proposals.ts';
import type { ResolvedProposal } from './proposal-validation.ts';
import type { RatchetTree, TreeDraft } from '../tree/ratchet-tree.ts';
import { InvitePolicy, isAdminIdentity, isAdminLeaf, rolesCodec, rolesOf, type Roles } from './roles.ts';
import type { LeafIndex } from '../tree/tree-math.ts';

export interface RoleCheckInput {
  /** GroupContext extensions and tree before the Commit. */
  readonly extensionsBefore: readonly Extension[];
  readonly treeBefore: RatchetTree;
  readonly resolved: readonly ResolvedProposal[];
  /** GroupContext extensions after the Commit's proposals. */
  readonly extensionsAfter: readonly Extension[];
  /** Tree after the proposals (the committer's path does not change who is a member). */
  readonly treeAfter: RatchetTree | TreeDraft;
  /** An external Commit's joiner leaf (its UpdatePath leaf). */
  readonly joiner?: LeafNodeIn;
}

function decodeRoles(extensions: readonly Extension[]): Roles | undefined {
  try {
    return rolesOf(extensions);
  } catch (err) {
    if (err instanceof DecodeError) throw new ValidationError('V-ROLE-7', `roles do not decode: ${err.message}`, { cause: err });
    throw err;
  }
}

function senderIsAdmin(roles: Roles, tree: RatchetTree, sender: Sender): boolean {
  return sender.senderType === SenderType.member && sender.leafIndex < tree.leafCount && isAdminLeaf(roles, tree.leaf(sender.leafIndex));
}

function memberIdentities(tree: RatchetTree | TreeDraft): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < tree.leafCount; i++) {
    const leaf = tree.leaf(i as LeafIndex);
    if (leaf !== undefined) out.push(credentialIdentity(leaf.credential));
  }
  return out;
}

/** Throw a ValidationError (rule V-ROLE-*) if the proposals break the group's roles. Reads only. */
export function checkRoleRules(input: RoleCheckInput): void {
  const { treeBefore, resolved } = input;
  const before = decodeRoles(input.extensionsBefore);
  const gce = resolved.find((p) => p.proposal.proposalType === ProposalType.groupContextExtensions);
  const after = gce === undefined ? before : decodeRoles(input.extensionsAfter);
  if (before === undefined) {
    if (after !== undefined) throw new ValidationError('V-ROLE-8', 'roles cannot be added to a group created without them');
    return;
  }
  const admin = (s: Sender): boolean => senderIsAdmin(before, treeBefore, s);
  let resync = false;
  for (const { proposal, sender } of resolved) {
    switch (proposal.proposalType) {
      case ProposalType.remove: {
        const removed = proposal.remove.removed;
        if (sender.senderType === SenderType.newMemberCommit) {
          resync = true; // V-EC-6 allows only the joiner's own earlier leaf
          break;
        }
        const self = sender.senderType === SenderType.member && sender.leafIndex === removed;
        if (!self && !admin(sender)) throw new ValidationError('V-ROLE-1', `only an admin can remove another member (leaf ${removed})`);
        break;
      }
      case ProposalType.groupContextExtensions: {
        const same = after !== undefined && bytesEqual(encode(rolesCodec, before), encode(rolesCodec, after));
        if (!same && !admin(sender)) throw new ValidationError('V-ROLE-2', 'only an admin can change the roles');
        break;
      }
      case ProposalType.reinit:
        if (!admin(sender)) throw new ValidationError('V-ROLE-4', 'only an admin can reinitialise the group');
        break;
      case ProposalType.add:
        if (before.invitePolicy === InvitePolicy.admins && !admin(sender)) throw new ValidationError('V-ROLE-5', 'only an admin can add members to this group');
        break;
      default:
        break;
    }
  }
  if (after === undefined) throw new ValidationError('V-ROLE-2', 'the roles cannot be dropped from the group');
  const roles = after;

  // V-ROLE-6: newcomers' identities are not admin identities (past or present).
  const newcomers: LeafNodeIn[] = resolved.flatMap((p) => (p.proposal.proposalType === ProposalType.add ? [p.proposal.add.keyPackage.leafNode] : []));
  if (input.joiner !== undefined && !resync) newcomers.push(input.joiner);
  for (const leaf of newcomers) {
    const id = credentialIdentity(leaf.credential);
    if (isAdminIdentity(before, id) || isAdminIdentity(roles, id)) {
      throw new ValidationError('V-ROLE-6', 'a newcomer cannot take an admin\'s identity');
    }
  }

  if (gce !== undefined) {
    // V-ROLE-3: an admin remains among the members, and new admins are members.
    const present = memberIdentities(input.treeAfter);
    const isMember = (id: Uint8Array): boolean => present.some((m) => bytesEqual(m, id));
    if (!roles.admins.some(isMember)) throw new ValidationError('V-ROLE-3', 'the group would have no admin among its members');
    for (const id of roles.admins) {
      if (!isAdminIdentity(before, id) && !isMember(id)) throw new ValidationError('V-ROLE-3', 'only a member can be made admin');
    }
  }
}
