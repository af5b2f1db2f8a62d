/**
 * "Message" and "Add to conversation…" on a person in the members dialog:
 * which device addresses to use (each of the person's devices whose roster
 * entry carries one, once), why they are not offered, and which of our
 * conversations someone can be added to. Pure.
 */
import type { ConversationSummary, DeviceAddress, PersonView } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';

/** The person's device addresses, each once, in the order of their devices. */
export function addressesOf(p: Pick<PersonView, 'devices'>): DeviceAddress[] {
  const seen = new Set<string>();
  const out: DeviceAddress[] = [];
  for (const d of p.devices) {
    if (d.address === undefined) continue;
    const key = `${d.address.accountId}/${d.address.welcomeMailboxId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ accountId: d.address.accountId, welcomeMailboxId: d.address.welcomeMailboxId });
  }
  return out;
}

/** Why the contact buttons are off for this person, or null when they can be used. */
export function contactBlocked(p: Pick<PersonView, 'devices' | 'displayName'>): string | null {
  return addressesOf(p).length > 0 ? null : t('members_contact_blocked', p.displayName);
}

/** Our live conversations other than this one, in list order: where a person can be added. */
export function addTargets(conversations: readonly ConversationSummary[], here: string): ConversationSummary[] {
  return conversations.filter((c) => c.id !== here && c.status === 'active');
}
