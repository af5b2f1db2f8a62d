/**
 * Interop histories between our engine and OpenMLS (CoreCrypto), written once
 * against `Party`, a member as both sides can be driven: by identity rather
 * than leaf index, without forks or tree access (CoreCrypto keeps its state
 * to itself). Environment-neutral (no `node:` imports): the Node tests and
 * the headless-Chromium test run the same code.
 *
 * Agreement after each commit: every current member is at the same epoch,
 * exports the same secret (CoreCrypto's exporter: label "exporter", empty
 * context, 32 bytes) and sees the same set of identities; our members also
 * agree on the epoch authenticator.
 */
import { CORE_CRYPTO_EXPORTER, openMlsMember, wireClientId, type CoreCryptoModule, type OpenMlsMember } from './openmls.ts';
import { fromUtf8, leafOf, utf8, type InteropMember, type ProcessResult } from './member.ts';
import { ourMember } from './ours.ts';
import { prng } from './scenario.ts';

/** What a commit put on the wire. */
export interface Sent {
  readonly commit: Uint8Array;
  readonly welcome?: Uint8Array;
}

export interface Party {
  readonly impl: 'ours' | 'openmls';
  readonly name: string;
  /** Wire-form ClientId string, the basic credential's identity. */
  readonly identity: string;
  keyPackage(): Promise<Uint8Array>;
  createGroup(groupId: Uint8Array): Promise<void>;
  add(keyPackages: readonly Uint8Array[]): Promise<Sent>;
  /** An add-only commit without an UpdatePath (§12.4 allows leaving it out; CoreCrypto always does). */
  addWithoutPath(keyPackages: readonly Uint8Array[]): Promise<Sent>;
  remove(identities: readonly string[]): Promise<Sent>;
  /** An empty commit with a full path. */
  update(): Promise<Sent>;
  /** Commit the proposals received this epoch, by reference. */
  commitPending(): Promise<Sent>;
  joinFromWelcome(welcome: Uint8Array): Promise<void>;
  /** MLSMessage(GroupInfo) of the current epoch, for an external join. */
  groupInfo(): Promise<Uint8Array>;
  joinExternal(groupInfo: Uint8Array): Promise<Uint8Array>;
  process(message: Uint8Array): Promise<ProcessResult>;
  encrypt(data: Uint8Array): Promise<Uint8Array>;
  epoch(): Promise<bigint>;
  exported(): Promise<string>;
  memberIdentities(): Promise<string[]>;
  active(): boolean;
}

/** One of ours, as a Party: PublicMessage handshakes and x509 in capabilities (see `OurMemberOptions`). */
export class OurParty implements Party {
  readonly impl = 'ours' as const;
  private constructor(
    readonly name: string,
    readonly identity: string,
    /** Our interop member underneath (for the epoch authenticator and proposals). */
    readonly member: InteropMember,
  ) {}

  static async create(name: string, suite: number): Promise<OurParty> {
    const identity = wireClientId();
    return new OurParty(name, identity, await ourMember(name, suite, { identity, credentialTypes: [1, 2], publicHandshake: true }));
  }

  keyPackage(): Promise<Uint8Array> {
    return this.member.keyPackage();
  }
  createGroup(groupId: Uint8Array): Promise<void> {
    return this.member.createGroup(groupId);
  }
  add(keyPackages: readonly Uint8Array[]): Promise<Sent> {
    return this.member.commit({ adds: keyPackages });
  }
  addWithoutPath(keyPackages: readonly Uint8Array[]): Promise<Sent> {
    return this.member.commit({ adds: keyPackages, path: false });
  }
  remove(identities: readonly string[]): Promise<Sent> {
    return this.member.commit({ removes: identities.map((id) => leafOf(this.member, id)) });
  }
  update(): Promise<Sent> {
    return this.member.commit();
  }
  commitPending(): Promise<Sent> {
    return this.member.commit();
  }
  /** A Remove proposal (PublicMessage) for the member with this identity. */
  proposeRemove(identity: string): Promise<Uint8Array> {
    return this.member.proposeRemove(leafOf(this.member, identity));
  }
  joinFromWelcome(welcome: Uint8Array): Promise<void> {
    return this.member.joinFromWelcome(welcome);
  }
  groupInfo(): Promise<Uint8Array> {
    return this.member.groupInfo();
  }
  joinExternal(groupInfo: Uint8Array): Promise<Uint8Array> {
    return this.member.joinExternal(groupInfo);
  }
  process(message: Uint8Array): Promise<ProcessResult> {
    return this.member.process(message);
  }
  encrypt(data: Uint8Array): Promise<Uint8Array> {
    return this.member.encrypt(data);
  }
  async epoch(): Promise<bigint> {
    return this.member.epoch();
  }
  async exported(): Promise<string> {
    return hex(await this.member.exporter(CORE_CRYPTO_EXPORTER.label, CORE_CRYPTO_EXPORTER.context, 32));
  }
  async memberIdentities(): Promise<string[]> {
    return this.member.members().filter((m): m is string => m !== undefined).sort();
  }
  active(): boolean {
    return this.member.active();
  }
}

/** An OpenMLS member as a Party. */
export class OpenMlsParty implements Party {
  readonly impl = 'openmls' as const;
  private constructor(readonly member: OpenMlsMember) {}

  static async create(cc: CoreCryptoModule, name: string, suite: number): Promise<OpenMlsParty> {
    return new OpenMlsParty(await openMlsMember(cc, name, suite));
  }

  get name(): string {
    return this.member.name;
  }
  get identity(): string {
    return this.member.identity;
  }
  keyPackage(): Promise<Uint8Array> {
    return this.member.keyPackage();
  }
  createGroup(groupId: Uint8Array): Promise<void> {
    return this.member.createGroup(groupId);
  }
  add(keyPackages: readonly Uint8Array[]): Promise<Sent> {
    return this.member.add(keyPackages);
  }
  addWithoutPath(keyPackages: readonly Uint8Array[]): Promise<Sent> {
    return this.member.add(keyPackages);
  }
  remove(identities: readonly string[]): Promise<Sent> {
    return this.member.remove(identities);
  }
  update(): Promise<Sent> {
    return this.member.update();
  }
  commitPending(): Promise<Sent> {
    return this.member.commitPending();
  }
  joinFromWelcome(welcome: Uint8Array): Promise<void> {
    return this.member.joinFromWelcome(welcome);
  }
  /** CoreCrypto hands out a GroupInfo only with its own commits: it makes one (an update) when it has none for this epoch. */
  async groupInfo(): Promise<Uint8Array> {
    return this.member.groupInfo();
  }
  joinExternal(groupInfo: Uint8Array): Promise<Uint8Array> {
    return this.member.joinExternal(groupInfo);
  }
  process(message: Uint8Array): Promise<ProcessResult> {
    return this.member.process(message);
  }
  encrypt(data: Uint8Array): Promise<Uint8Array> {
    return this.member.encrypt(data);
  }
  epoch(): Promise<bigint> {
    return this.member.epoch();
  }
  async exported(): Promise<string> {
    return hex(await this.member.exported(32));
  }
  memberIdentities(): Promise<string[]> {
    return this.member.memberIdentities();
  }
  active(): boolean {
    return this.member.active();
  }
}

export type PartyFactory = (name: string) => Promise<Party>;

/** Factories for both implementations at `suite`. */
export function factories(cc: CoreCryptoModule, suite: number): { ours: PartyFactory; openmls: PartyFactory } {
  return { ours: (name) => OurParty.create(name, suite), openmls: (name) => OpenMlsParty.create(cc, name, suite) };
}

function hex(b: Uint8Array): string {
  return Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
}

/** Thrown when members disagree or a message is not read as sent; says who and what. */
export class InteropMismatch extends Error {
  override name = 'InteropMismatch';
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InteropMismatch(message);
}

/** Every member of `group` agrees on epoch, exported secret and membership (ours also on the epoch authenticator); returns the epoch. */
export async function expectAgreement(group: readonly Party[]): Promise<bigint> {
  const views = await Promise.all(
    group.map(async (m) => ({ m, epoch: await m.epoch(), exported: await m.exported(), members: (await m.memberIdentities()).join(',') })),
  );
  const [first, ...rest] = views;
  if (first === undefined) throw new Error('empty group');
  const expected = [...group.map((m) => m.identity)].sort().join(',');
  check(first.members === expected, `${first.m.name} (${first.m.impl}) sees members ${first.members}, expected ${expected}`);
  for (const v of rest) {
    const who = `${v.m.name} (${v.m.impl}) vs ${first.m.name} (${first.m.impl})`;
    check(v.epoch === first.epoch, `${who}: epoch ${v.epoch} vs ${first.epoch}`);
    check(v.exported === first.exported, `${who}: exported secrets differ at epoch ${v.epoch}`);
    check(v.members === first.members, `${who}: members ${v.members} vs ${first.members}`);
  }
  const ours = group.filter((m): m is OurParty => m instanceof OurParty).map((m) => hex(m.member.epochAuthenticator()));
  check(ours.every((a) => a === ours[0]), 'our members disagree on the epoch authenticator');
  return first.epoch;
}

/** Everyone in `group` but `sender` processes `commit`, which must be read as a commit. */
export async function deliver(commit: Uint8Array, sender: Party, group: readonly Party[]): Promise<void> {
  for (const m of group) {
    if (m === sender) continue;
    const r = await m.process(commit);
    check(r.kind === 'commit', `${m.name} (${m.impl}) read ${sender.name}'s commit as a ${r.kind}`);
  }
}

/** `sender` sends one message; everyone else in `group` must read it as sent. */
export async function broadcast(sender: Party, group: readonly Party[], text: string): Promise<void> {
  const ct = await sender.encrypt(utf8(text));
  for (const m of group) {
    if (m === sender) continue;
    const r = await m.process(ct);
    check(r.kind === 'application' && fromUtf8(r.data) === text, `${m.name} (${m.impl}) did not read "${text}" from ${sender.name} (${sender.impl})`);
  }
}

/** `creator` makes a group and adds `joiners` in one commit (Welcome with the ratchet_tree extension). */
export async function formGroup(creator: Party, joiners: readonly Party[], label: string): Promise<Party[]> {
  await creator.createGroup(utf8(`openmls interop ${label}`));
  const sent = await creator.add(await Promise.all(joiners.map((j) => j.keyPackage())));
  check(sent.welcome !== undefined, `${creator.name} (${creator.impl}) sent no Welcome`);
  for (const j of joiners) await j.joinFromWelcome(sent.welcome!);
  const group = [creator, ...joiners];
  await expectAgreement(group);
  return group;
}

/** `committer` adds `joiner` (with an UpdatePath unless `path` is false); everyone processes it, the joiner joins from the Welcome. */
export async function addMember(committer: Party, joiner: Party, group: readonly Party[], options: { path?: boolean } = {}): Promise<Party[]> {
  const kp = [await joiner.keyPackage()];
  const sent = await (options.path === false ? committer.addWithoutPath(kp) : committer.add(kp));
  await deliver(sent.commit, committer, group);
  await joiner.joinFromWelcome(sent.welcome!);
  const next = [...group, joiner];
  await expectAgreement(next);
  return next;
}

/** `committer` removes `victim`; the victim processes the commit and must see itself out. */
export async function removeMember(committer: Party, victim: Party, group: readonly Party[]): Promise<Party[]> {
  const sent = await committer.remove([victim.identity]);
  await deliver(sent.commit, committer, group);
  check(!victim.active(), `${victim.name} (${victim.impl}) still thinks it is a member`);
  const next = group.filter((m) => m !== victim);
  await expectAgreement(next);
  return next;
}

/** `committer` sends a full-path update; everyone processes it. */
export async function updateBy(committer: Party, group: readonly Party[]): Promise<void> {
  const sent = await committer.update();
  await deliver(sent.commit, committer, group);
  await expectAgreement(group);
}

/**
 * `joiner` joins by external commit from `publisher`'s GroupInfo. An OpenMLS
 * publisher first commits an update, since CoreCrypto gives out a GroupInfo
 * only with its own commits.
 */
export async function externalJoin(joiner: Party, publisher: Party, group: readonly Party[]): Promise<Party[]> {
  if (publisher instanceof OpenMlsParty) await updateBy(publisher, group);
  const commit = await joiner.joinExternal(await publisher.groupInfo());
  await deliver(commit, joiner, group);
  const next = [...group, joiner];
  await expectAgreement(next);
  return next;
}

/** Our `proposer` proposes removing `victim`; OpenMLS `committer` commits it by reference. */
export async function ourRemoveCommittedByOpenMls(proposer: OurParty, victim: Party, committer: OpenMlsParty, group: readonly Party[]): Promise<Party[]> {
  const proposal = await proposer.proposeRemove(victim.identity);
  for (const m of group) {
    if (m === proposer) continue;
    const r = await m.process(proposal);
    check(r.kind === 'proposal', `${m.name} (${m.impl}) read the Remove proposal as a ${r.kind}`);
  }
  const sent = await committer.commitPending();
  await deliver(sent.commit, committer, group);
  check(!victim.active(), `${victim.name} (${victim.impl}) still thinks it is a member`);
  const next = group.filter((m) => m !== victim);
  await expectAgreement(next);
  return next;
}

/** Every member sends a message that every other member reads. */
export async function everyoneTalks(group: readonly Party[], tag: string): Promise<void> {
  for (const sender of group) await broadcast(sender, group, `${tag}: hello from ${sender.name} (${sender.impl})`);
}

/**
 * The main scenario, everything once in one history (what the Chromium test
 * runs): OpenMLS creates and adds one of ours; messages both ways; full-path
 * commits both ways; we add an OpenMLS member and OpenMLS adds one of ours;
 * removes both ways; external joins both ways (ours from OpenMLS's GroupInfo,
 * OpenMLS's from ours); our Remove proposal committed by OpenMLS. Returns the
 * final epoch.
 */
export async function runMainScenario(make: { ours: PartyFactory; openmls: PartyFactory }): Promise<bigint> {
  const [o1, u1, o2, u2, u3, o3] = await Promise.all([
    make.openmls('o1'),
    make.ours('u1'),
    make.openmls('o2'),
    make.ours('u2'),
    make.ours('u3'),
    make.openmls('o3'),
  ]);
  let group = await formGroup(o1, [u1], 'main');
  await everyoneTalks(group, 'epoch 1');
  await updateBy(u1, group);
  await updateBy(o1, group);
  group = await addMember(u1, o2, group);
  group = await addMember(o2, u2, group);
  await everyoneTalks(group, 'four');
  group = await removeMember(u2, o1, group);
  group = await removeMember(o2, u1, group);
  group = await externalJoin(u3, o2, group);
  group = await externalJoin(o3, u3, group);
  await everyoneTalks(group, 'after external joins');
  group = await ourRemoveCommittedByOpenMls(u2 as OurParty, o2, o3 as OpenMlsParty, group);
  await everyoneTalks(group, 'end');
  return expectAgreement(group);
}

/**
 * A random history over a mixed group of 6 (three of each), replayable from
 * `seed`: each step is a full-path update, a message round, a remove followed
 * by an add (of a fresh member of the removed one's implementation, so the
 * group stays at 6 and both kinds remain), an external join after a removal,
 * or one of our Remove proposals committed by an OpenMLS member. Agreement
 * (epoch, exported secret, membership) is checked after every commit.
 */
export async function runRandomHistory(make: { ours: PartyFactory; openmls: PartyFactory }, seed: number, steps: number): Promise<string[]> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  let created = 0;
  const fresh = (impl: Party['impl']): Promise<Party> => (impl === 'ours' ? make.ours : make.openmls)(`m${created++}`);
  const first = await fresh(rnd(2) === 0 ? 'ours' : 'openmls');
  const others = await Promise.all(
    (['ours', 'openmls', 'ours', 'openmls', 'ours', 'openmls'] as const).filter((_, i) => i !== (first.impl === 'ours' ? 0 : 1)).map(fresh),
  );
  let group = await formGroup(first, others, `random ${seed}`);
  const log: string[] = [];
  for (let step = 0; step < steps; step++) {
    const actor = pick(group);
    const action = pick(['update', 'messages', 'replace', 'external', 'proposal'] as const);
    try {
      if (action === 'update') {
        log.push(`update by ${actor.name}`);
        await updateBy(actor, group);
      } else if (action === 'messages') {
        log.push(`message from ${actor.name}`);
        await broadcast(actor, group, `step ${step} from ${actor.name}`);
      } else if (action === 'replace' || action === 'external') {
        const victim = pick(group.filter((m) => m !== actor));
        log.push(`${action}: ${actor.name} removes ${victim.name}`);
        group = await removeMember(actor, victim, group);
        const joiner = await fresh(victim.impl);
        log.push(`${action}: ${joiner.name} (${joiner.impl}) joins`);
        group = action === 'replace' ? await addMember(pick(group), joiner, group) : await externalJoin(joiner, pick(group), group);
      } else {
        const proposer = group.find((m): m is OurParty => m instanceof OurParty);
        const committer = group.find((m): m is OpenMlsParty => m instanceof OpenMlsParty);
        const victim = pick(group.filter((m) => m !== proposer && m !== committer));
        if (proposer === undefined || committer === undefined) throw new Error('the group lost one implementation');
        log.push(`proposal: ${proposer.name} proposes removing ${victim.name}, ${committer.name} commits`);
        group = await ourRemoveCommittedByOpenMls(proposer, victim, committer, group);
        const joiner = await fresh(victim.impl);
        log.push(`proposal: ${joiner.name} (${joiner.impl}) joins`);
        group = await addMember(pick(group), joiner, group);
      }
    } catch (err) {
      throw new Error(`OpenMLS random history seed ${seed} failed at step ${step}: ${log.join(', ')}`, { cause: err });
    }
  }
  await everyoneTalks(group, 'final');
  return log;
}
