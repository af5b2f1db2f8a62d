/**
 * Adding a device by address must be idempotent: the linking job (linking/
 * add-job.ts) repeats an add when the worker died between the add and
 * writing down that it was done, and a person may press "Add" twice. Without
 * a record, each repeat claims another KeyPackage and adds the same device
 * again as a second leaf.
 *
 * So device-adds.ts writes, BEFORE its Add Commit goes out, which leaf each
 * device will be (the member id of the claimed KeyPackage's leaf), and marks
 * it once the device's Welcome is kept. A repeated add then finds:
 *   - that leaf in the group, Welcome kept: already added, nothing to do;
 *   - that leaf in the group, no Welcome kept (the worker died after the
 *     Commit went out and before the Welcome was written down): the device
 *     can never join that leaf, so the leaf is removed in the same Commit
 *     that adds the device again;
 *   - that leaf not in the group (the Commit never landed, or the device was
 *     removed since): added as new.
 * A device of ours is also already there when a member proves it (its
 * `person` proof holds for our identity and our roster gives that device
 * this address): our roster is signed by us. Another person's roster is not
 * trusted for this (a member could list anyone's address in its own roster
 * and so keep them out). Pure.
 */
import type { DeviceAddress } from './device-address.ts';
import { vouchedProof, type ProofRecord } from './identity/member-proofs.ts';
import { isOwnDevice, type OwnKeys } from './identity/own-devices.ts';

export interface AddedDevice {
  /** The device's relay account (its address's accountId). */
  accountId: string;
  /** The member id its leaf has (of the KeyPackage we claimed for it). */
  memberId: string;
  /** Its Welcome is kept (posted, or waiting in `pendingWelcomes`). */
  welcomeKept?: true;
}

export interface AddPlan {
  /** Devices to add now. */
  add: DeviceAddress[];
  /** Devices already members, with their Welcome: nothing to do. */
  present: DeviceAddress[];
  /** Member ids of leaves an earlier add made whose Welcome was lost: removed in the Commit that adds their device again. */
  stranded: string[];
}

export interface PlanInput {
  added: readonly AddedDevice[] | undefined;
  /** The member ids in the group now. */
  members: ReadonlySet<string>;
  proofs: ProofRecord;
  own: OwnKeys | undefined;
}

export function planAdds(devices: readonly DeviceAddress[], input: PlanInput): AddPlan {
  const plan: AddPlan = { add: [], present: [], stranded: [] };
  const provenOwn = ownAccountsPresent(input);
  for (const device of devices) {
    const leaves = (input.added ?? []).filter((a) => a.accountId === device.accountId && input.members.has(a.memberId));
    if (provenOwn.has(device.accountId) || leaves.some((a) => a.welcomeKept === true)) {
      plan.present.push(device);
      continue;
    }
    plan.stranded.push(...leaves.map((a) => a.memberId));
    plan.add.push(device);
  }
  return plan;
}

/** The relay accounts of our own devices that are members here by a proof that holds (our roster names their address). */
function ownAccountsPresent(input: PlanInput): Set<string> {
  const out = new Set<string>();
  const own = input.own;
  if (own === undefined) return out;
  const seen = input.proofs.rosters?.[own.identityKey];
  const roster = seen !== undefined && seen.version > own.roster.version ? seen : own.roster;
  for (const mid of input.members) {
    if (!isOwnDevice(input.proofs, mid, own)) continue;
    const deviceKey = vouchedProof(input.proofs, mid)!.deviceKey;
    const accountId = roster.devices.find((d) => d.deviceKey === deviceKey)?.address?.accountId;
    if (accountId !== undefined) out.add(accountId);
  }
  return out;
}

/**
 * The record after claiming: this device will be `memberId`. Earlier entries stay (a stranded leaf of an
 * earlier try is removed by the Commit this one makes; if that Commit fails too, the next try still finds it).
 */
export function recordIntent(added: readonly AddedDevice[] | undefined, members: ReadonlySet<string>, accountId: string, memberId: string): AddedDevice[] {
  const kept = (added ?? []).filter((a) => a.memberId !== memberId && members.has(a.memberId));
  return [...kept, { accountId, memberId }];
}

/** The record once these devices' Welcomes are kept; entries of leaves no longer in the group are dropped. */
export function recordWelcomes(added: readonly AddedDevice[] | undefined, accountIds: readonly string[], members: ReadonlySet<string>): AddedDevice[] {
  return (added ?? [])
    .filter((a) => members.has(a.memberId))
    .map((a) => (accountIds.includes(a.accountId) ? { ...a, welcomeKept: true as const } : a));
}
