/**
 * MicroChat roles (lib/mls/group/roles.ts, lib/mls/group/role-rules.ts): the strict
 * codec of the GroupContext extension and each V-ROLE rule, from both sides
 * (what an admin may do is accepted by everyone, what a non-admin may not
 * is refused by the honest sender and by every receiver, state unchanged).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { decode, encode } from '../../lib/mls/codec/codec.ts';
import { concatBytes } from '../../lib/bytes.ts';
import {
  createCommit,
  defaultCapabilities,
  encodeMessage,
  exportGroupInfo,
  generateIdentity,
  generateKeyPackage,
  joinByExternalCommit,
  leaveGroup,
  processMessage,
  type GroupState,
} from '../../lib/mls/group.ts';
import { ProposalType, type Proposal } from '../../lib/mls/group/proposals.ts';
import { InvitePolicy, ROLES_EXTENSION_TYPE, rolesCodec, rolesExtension, rolesOf, withAdmin, withoutAdmin, type Roles } from '../../lib/mls/group/roles.ts';
import type { LeafIndex } from '../../lib/mls/tree/tree-math.ts';
import { deliverAll, expectGroupLive, expectRejected, forgeCommit, makeGroup, utf8 } from './group-fixture.ts';
import { makeRolesGroup } from './roles-fixture.ts';

const cs = getCipherSuite(1);
const ALICE = 0;
const BOB = 1;
const CAROL = 2;
const id = (i: number): Uint8Array => utf8.encode(`member-${i}`);
const removeLeaf = (i: number): Proposal => ({ proposalType: ProposalType.remove, remove: { removed: i as LeafIndex } });
const setRoles = (roles: Roles): Proposal => ({ proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [rolesExtension(roles)] } });
const rolesIn = (s: GroupState): Roles => rolesOf(s.context.extensions)!;

/** `from` commits `proposals`; every other member follows. Returns all new states. */
async function commitBy(g: GroupState[], from: number, proposals: Proposal[]): Promise<GroupState[]> {
  const c = await createCommit(g[from]!, { proposals });
  const next = await deliverAll(g, c.commit, from);
  next[from] = c.state;
  return next;
}

/** A Commit by `from` that the honest engine refuses to build: forged as a hostile client would, refused by all. */
async function expectRefusedByAll(g: GroupState[], from: number, proposals: Proposal[], rule: string): Promise<void> {
  await expectRejected(g[from]!, rule, (s) => createCommit(s, { proposals }));
  const forged = encodeMessage(await forgeCommit(g[from]!, { proposals: proposals.map((proposal) => ({ type: 1, proposal }) as const) }));
  for (let i = 0; i < g.length; i++) if (i !== from) await expectRejected(g[i]!, rule, (s) => processMessage(s, forged));
}

describe('MicroChatRoles codec', () => {
  const sample: Roles = { admins: [id(0), id(3)], invitePolicy: InvitePolicy.admins };

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8, selector: (a) => a.join(',') }), fc.constantFrom(0, 1), (admins, p) => {
        const roles: Roles = { admins, invitePolicy: p as InvitePolicy };
        expect(decode(rolesCodec, encode(rolesCodec, roles))).toEqual(roles);
      }),
    );
  });

  it('rejects trailing bytes, duplicates, an empty list, an empty identity and unknown policies', () => {
    const good = encode(rolesCodec, sample);
    expect(() => decode(rolesCodec, concatBytes(good, new Uint8Array([0])))).toThrow(/trailing/);
    expect(() => decode(rolesCodec, encode(rolesCodec, { ...sample, admins: [id(0), id(0)] }))).toThrow(/twice/);
    expect(() => decode(rolesCodec, encode(rolesCodec, { ...sample, admins: [] }))).toThrow(/no admin/);
    expect(() => decode(rolesCodec, encode(rolesCodec, { ...sample, admins: [new Uint8Array(0)] }))).toThrow(/empty admin/);
    expect(() => decode(rolesCodec, encode(rolesCodec, { ...sample, invitePolicy: 2 as InvitePolicy }))).toThrow(/invite_policy/);
    expect(() => decode(rolesCodec, good.subarray(0, good.length - 1))).toThrow();
  });

  it('uses a private-use extension type (RFC 9420 §17.3)', () => {
    expect(ROLES_EXTENSION_TYPE).toBeGreaterThanOrEqual(0xf000);
    expect(rolesOf([rolesExtension(sample)])).toEqual(sample);
    expect(rolesOf([])).toBeUndefined();
  });
});

describe('role rules (V-ROLE-*)', () => {
  it('the creator is the only admin; the admin removes a member and everyone follows', async () => {
    const g = await makeRolesGroup(1, 3);
    expect(rolesIn(g[BOB]!).admins).toEqual([id(0)]);
    const after = await commitBy(g, ALICE, [removeLeaf(CAROL)]);
    expect([...after[BOB]!.tree.memberIndices()]).toEqual([0, 1]);
  });

  it('anyone can leave: Bob proposes his own removal and Carol (not admin) commits it', async () => {
    const g = await makeRolesGroup(1, 3);
    const p = await leaveGroup(g[BOB]!);
    const bytes = encodeMessage(p.message);
    const [alice, carol] = [await processMessage(g[ALICE]!, bytes), await processMessage(g[CAROL]!, bytes)];
    const c = await createCommit(carol.state);
    const aliceAfter = await processMessage(alice.state, encodeMessage(c.commit));
    const bobAfter = await processMessage(p.state, encodeMessage(c.commit));
    expect(bobAfter.kind === 'commit' && bobAfter.removed).toBe(true);
    expect([...aliceAfter.state.tree.memberIndices()]).toEqual([0, 2]);
  });

  it('V-ROLE-1: a non-admin cannot remove another member', async () => {
    const g = await makeRolesGroup(1, 3);
    await expectRefusedByAll(g, BOB, [removeLeaf(CAROL)], 'V-ROLE-1');
  });

  it('an admin makes Bob admin; Bob then removes Carol; Alice steps down while Bob remains', async () => {
    let g = await makeRolesGroup(1, 3);
    g = await commitBy(g, ALICE, [setRoles(withAdmin(rolesIn(g[ALICE]!), id(BOB)))]);
    expect(rolesIn(g[CAROL]!).admins).toEqual([id(0), id(1)]);
    g = await commitBy(g, BOB, [removeLeaf(CAROL)]);
    g = g.slice(0, 2);
    g = await commitBy(g, ALICE, [setRoles(withoutAdmin(rolesIn(g[ALICE]!), id(ALICE)))]);
    expect(rolesIn(g[BOB]!).admins).toEqual([id(1)]);
    await expectGroupLive(g);
  });

  it('V-ROLE-2: a non-admin cannot change the roles (make himself admin, or change who may invite)', async () => {
    const g = await makeRolesGroup(1, 3);
    await expectRefusedByAll(g, BOB, [setRoles(withAdmin(rolesIn(g[BOB]!), id(BOB)))], 'V-ROLE-2');
    await expectRefusedByAll(g, BOB, [setRoles({ ...rolesIn(g[BOB]!), invitePolicy: InvitePolicy.admins })], 'V-ROLE-2');
  });

  it('V-ROLE-2: nobody can drop the roles, not even an admin', async () => {
    const g = await makeRolesGroup(1, 3);
    const drop: Proposal = { proposalType: ProposalType.groupContextExtensions, groupContextExtensions: { extensions: [] } };
    await expectRefusedByAll(g, ALICE, [drop], 'V-ROLE-2');
  });

  it('V-ROLE-3: the last admin cannot step down, and only members can be made admin', async () => {
    const g = await makeRolesGroup(1, 3);
    await expectRefusedByAll(g, ALICE, [setRoles({ ...rolesIn(g[ALICE]!), admins: [id(9)] })], 'V-ROLE-3');
    await expectRefusedByAll(g, ALICE, [setRoles(withAdmin(rolesIn(g[ALICE]!), id(9)))], 'V-ROLE-3');
  });

  it('V-ROLE-5: under the "admins" policy only an admin adds people; under "everyone" anyone does', async () => {
    const strict = await makeRolesGroup(1, 3, InvitePolicy.admins);
    const capabilities = defaultCapabilities(cs, { extensions: [ROLES_EXTENSION_TYPE] });
    const kp = await generateKeyPackage(cs, await generateIdentity(cs, utf8.encode('dave')), { capabilities });
    const add: Proposal = { proposalType: ProposalType.add, add: { keyPackage: kp.keyPackage } };
    await expectRefusedByAll(strict, BOB, [add], 'V-ROLE-5');
    await commitBy(strict, ALICE, [add]);
    const open = await makeRolesGroup(1, 3, InvitePolicy.everyone);
    await commitBy(open, BOB, [add]);
  });

  it('V-ROLE-6: a joiner cannot take an admin\'s identity; an ordinary joiner and an admin\'s resync can join', async () => {
    const g = await makeRolesGroup(1, 3);
    const capabilities = defaultCapabilities(cs, { extensions: [ROLES_EXTENSION_TYPE] });
    const impostor = await joinByExternalCommit(await exportGroupInfo(g[ALICE]!), await generateIdentity(cs, id(ALICE)), { capabilities });
    const bytes = encodeMessage(impostor.commit);
    for (const s of g) await expectRejected(s, 'V-ROLE-6', (x) => processMessage(x, bytes));

    const dave = await joinByExternalCommit(await exportGroupInfo(g[ALICE]!), await generateIdentity(cs, utf8.encode('dave')), { capabilities });
    await deliverAll(g, dave.commit);

    const alice = g[ALICE]!.tree.leaf(g[ALICE]!.ownLeaf)!;
    const resync = await joinByExternalCommit(
      await exportGroupInfo(g[BOB]!),
      { credential: alice.credential, signaturePublicKey: alice.signatureKey, signaturePrivateKey: g[ALICE]!.signaturePrivateKey },
      { capabilities, removeLeaf: g[ALICE]!.ownLeaf },
    );
    const [bob, carol] = await deliverAll([g[BOB]!, g[CAROL]!], resync.commit);
    await expectGroupLive([resync.state, bob!, carol!]);
  });

  it('V-ROLE-7: roles that do not decode are refused', async () => {
    const g = await makeRolesGroup(1, 3);
    const bad: Proposal = {
      proposalType: ProposalType.groupContextExtensions,
      groupContextExtensions: { extensions: [{ extensionType: ROLES_EXTENSION_TYPE, extensionData: encode(rolesCodec, { admins: [id(0), id(0)], invitePolicy: 1 }) }] },
    };
    await expectRefusedByAll(g, ALICE, [bad], 'V-ROLE-7');
  });

  it('a group made without roles keeps working as before, and nobody can claim it (V-ROLE-8)', async () => {
    // Made by clients from before roles: their leaves do not even list the extension.
    const old = await makeGroup(1, 3);
    const after = await commitBy(old, BOB, [removeLeaf(ALICE)]);
    expect([...after[BOB]!.tree.memberIndices()]).toEqual([1, 2]);
    // Members that know roles now: still today's rules, and roles cannot be added.
    const legacy = await makeRolesGroup(1, 3, InvitePolicy.everyone, { legacy: true });
    await commitBy(legacy, BOB, [removeLeaf(CAROL)]);
    await expectRefusedByAll(legacy, BOB, [setRoles({ admins: [id(BOB)], invitePolicy: InvitePolicy.everyone })], 'V-ROLE-8');
  });
});
