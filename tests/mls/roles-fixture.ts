/**
 * A group with MicroChat roles (lib/mls/group/roles.ts): member 0 creates it and is
 * its only admin, members 1.. join by Welcome; every leaf lists the roles
 * extension type in its capabilities, as the extension's clients do.
 */
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createCommit, createGroup, defaultCapabilities, generateIdentity, generateKeyPackage, joinFromWelcome, type GroupState } from '../../lib/mls/group.ts';
import { ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';
import { InvitePolicy, ROLES_EXTENSION_TYPE, rolesExtension } from '../../lib/mls/group/roles.ts';
import { utf8 } from './group-fixture.ts';

export async function makeRolesGroup(
  suiteId: number,
  n: number,
  invitePolicy: InvitePolicy = InvitePolicy.everyone,
  options: { legacy?: boolean } = {},
): Promise<GroupState[]> {
  const cs = getCipherSuite(suiteId);
  const capabilities = defaultCapabilities(cs, { extensions: [ROLES_EXTENSION_TYPE] });
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => generateIdentity(cs, utf8.encode(`member-${i}`))));
  const creator = await createGroup(cs, ids[0]!, {
    capabilities,
    // legacy: a group created before roles existed, by clients that know them now.
    groupExtensions: options.legacy === true ? [] : [rolesExtension({ admins: [utf8.encode('member-0')], invitePolicy })],
  });
  if (n === 1) return [creator];
  const kps = await Promise.all(ids.slice(1).map((id) => generateKeyPackage(cs, id, { capabilities })));
  const add = await createCommit(creator, {
    proposals: kps.map((kp): Proposal => ({ proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } })),
  });
  const joined = await Promise.all(kps.map((kp) => joinFromWelcome(add.welcome!, kp.keyPackage, kp.privateKeys)));
  return [add.state, ...joined];
}
