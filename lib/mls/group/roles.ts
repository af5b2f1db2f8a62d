/**
 * MicroChat roles: who administers a group, kept in the GroupContext so that
 * every member's engine agrees on it and checks each Commit against it
 * (rules in `role-rules.ts`).
 *
 * Carried as a GroupContext extension of a private-use type (RFC 9420
 * §17.3: 0xF000-0xFFFF). Not an application component of the MLS
 * extensions draft: that needs the app_data_dictionary extension and
 * AppDataUpdate proposals, which this engine does not implement, and a
 * plain GroupContextExtensions proposal already gives what roles need
 * (a change signed by its sender, agreed by every member, in the key
 * schedule through the GroupContext).
 *
 *   struct {
 *     opaque admins<V><V>;     // credential identities (§5.3), distinct
 *     uint8 invite_policy;     // 0 admins, 1 everyone
 *   } MicroChatRoles;
 *
 * Admins are named by credential identity, not by leaf index or signature
 * key: an identity never changes while a member stays (V-LN-12), whereas
 * leaf indexes move when the tree shrinks and keys change on Update.
 * Bytes come from other members: decoding is strict (typed DecodeError for
 * duplicates, an empty list, an empty identity, an unknown policy, trailing bytes).
 */
import { decode, encode, type Codec } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { DecodeError } from '../errors.ts';
import { findExtension, type Extension } from './extensions.ts';
import { credentialIdentity } from '../tree/leaf-node-validation.ts';
import type { LeafNode } from '../tree/leaf-node.ts';

/** Private-use extension type (RFC 9420 §17.3) of MicroChatRoles. */
export const ROLES_EXTENSION_TYPE = 0xf0a1;

/** Who may invite: admins only, or every member. */
export const InvitePolicy = {
  admins: 0,
  everyone: 1,
} as const;
export type InvitePolicy = (typeof InvitePolicy)[keyof typeof InvitePolicy];
const POLICIES: ReadonlySet<number> = new Set(Object.values(InvitePolicy));

export interface Roles {
  /** Credential identities of the admins, distinct, never empty. */
  readonly admins: readonly Uint8Array[];
  readonly invitePolicy: InvitePolicy;
}

export const rolesCodec: Codec<Roles> = {
  encode(w, v) {
    w.vector(v.admins, (iw, id) => void iw.opaque(id));
    w.u8(v.invitePolicy);
  },
  decode(r) {
    const start = r.offset;
    const admins = r.vector((ir) => ir.opaque());
    if (admins.length === 0) throw new DecodeError('bad-value', 'MicroChatRoles: no admin', start);
    admins.forEach((a, i) => {
      if (a.length === 0) throw new DecodeError('bad-value', 'MicroChatRoles: an empty admin identity', start);
      for (let j = 0; j < i; j++) if (bytesEqual(a, admins[j]!)) throw new DecodeError('bad-value', 'MicroChatRoles: an admin listed twice', start);
    });
    const invitePolicy = r.enumU8<InvitePolicy>(POLICIES, 'MicroChatRoles invite_policy');
    return { admins, invitePolicy };
  },
};

export function rolesExtension(roles: Roles): Extension {
  return { extensionType: ROLES_EXTENSION_TYPE, extensionData: encode(rolesCodec, roles) };
}

/** The group's roles, or undefined for a group made without them. Throws DecodeError on bad bytes. */
export function rolesOf(extensions: readonly Extension[]): Roles | undefined {
  const ext = findExtension(extensions, ROLES_EXTENSION_TYPE);
  return ext === undefined ? undefined : decode(rolesCodec, ext.extensionData);
}

export function isAdminIdentity(roles: Roles, identity: Uint8Array): boolean {
  return roles.admins.some((a) => bytesEqual(a, identity));
}

/** Whether the member at this leaf is an admin (a blank leaf never is). */
export function isAdminLeaf(roles: Roles, leaf: LeafNode | undefined): boolean {
  return leaf !== undefined && isAdminIdentity(roles, credentialIdentity(leaf.credential));
}

/** The same roles with `identity` added as admin (no change if it is one). */
export function withAdmin(roles: Roles, identity: Uint8Array): Roles {
  return isAdminIdentity(roles, identity) ? roles : { ...roles, admins: [...roles.admins, identity] };
}

/** The same roles without `identity` as admin. */
export function withoutAdmin(roles: Roles, identity: Uint8Array): Roles {
  return { ...roles, admins: roles.admins.filter((a) => !bytesEqual(a, identity)) };
}
