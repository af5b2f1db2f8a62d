/**
 * Who a member is called, without telling the relay.
 *
 * A leaf's BasicCredential identity is a random pseudonym, fresh for each
 * conversation we create or join: external commits are PublicMessages the
 * relay stores, so whatever sits in the identity is readable there, and one
 * pseudonym per person would link that person's conversations. Display
 * names travel only inside encrypted application messages (`profile`), and
 * each member keeps memberId → display name in the conversation's metadata.
 *
 * Names are bound to the member id (a hash of the leaf's signature key), not
 * to the identity: RFC 9420 §7.3 makes signature keys unique among the
 * members, identities are not, so a member copying someone's pseudonym
 * cannot take over their name. A profile counts only for the leaf that sent
 * it (the MLS sender).
 *
 * Conversations made before this change have the display name as identity;
 * until such a member sends a profile, that text is their name.
 *
 * Names are chosen by hostile members too: two members whose labels look the
 * same get a tag, the leading digit groups of their key fingerprint (as the
 * members dialog shows it), long enough to tell every one of them apart.
 */
import { CredentialType } from '../mls/tree/credential.ts';
import type { LeafNode } from '../mls/tree/leaf-node.ts';
import { randomBytes } from '../bytes.ts';
import { keyFingerprint } from './safety-code.ts';
import { t } from '../platform/i18n.ts';

/** "\0mc1" then 16 random bytes: no display name starts with a NUL, so old name-identities never look like one. */
const PREFIX = new Uint8Array([0, 0x6d, 0x63, 0x31]);
const PSEUDONYM_LENGTH = PREFIX.length + 16;

export function newPseudonym(): Uint8Array {
  const out = new Uint8Array(PSEUDONYM_LENGTH);
  out.set(PREFIX);
  out.set(randomBytes(16), PREFIX.length);
  return out;
}

export function isPseudonym(identity: Uint8Array): boolean {
  return identity.length === PSEUDONYM_LENGTH && PREFIX.every((b, i) => identity[i] === b);
}

/** What a member is called, and the tag that tells them apart from someone called the same (absent when unique). */
export interface MemberLabel {
  displayName: string;
  tag?: string;
}

export interface LabelledMember {
  memberId: string;
  leaf: Pick<LeafNode, 'signatureKey' | 'credential'>;
  self: boolean;
}

const dec = new TextDecoder();

/** The first fingerprint digit group: the neutral name of someone we have no name for. */
export function placeholderName(signatureKey: Uint8Array): string {
  return t('bg_member_placeholder', keyFingerprint(signatureKey).slice(0, 5));
}

/** A member's name before disambiguation: their profile, else an old name-identity, else a placeholder. */
export function baseName(leaf: LabelledMember['leaf'], known: string | undefined): string {
  if (known !== undefined) return known;
  const c = leaf.credential;
  if (c.credentialType === CredentialType.basic && !isPseudonym(c.identity)) {
    const legacy = dec.decode(c.identity).slice(0, 64).trim();
    if (legacy !== '') return legacy;
  }
  return placeholderName(leaf.signatureKey);
}

/** How two names compare for a reader: compatibility forms, case and spacing do not tell people apart. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLocaleLowerCase('en').replace(/\s+/gu, ' ').trim();
}

/**
 * Labels for every member, ourselves included (`selfName` is our own
 * display name). Members whose names read the same get fingerprint tags,
 * one digit group longer each round until no two of them share a tag.
 */
export function labelMembers(members: readonly LabelledMember[], names: Readonly<Record<string, string>>, selfName: string): Map<string, MemberLabel> {
  const base = new Map<string, string>();
  for (const m of members) base.set(m.memberId, m.self ? selfName : baseName(m.leaf, names[m.memberId]));
  const byKey = new Map<string, LabelledMember[]>();
  for (const m of members) {
    const k = nameKey(base.get(m.memberId)!);
    byKey.set(k, [...(byKey.get(k) ?? []), m]);
  }
  const out = new Map<string, MemberLabel>();
  for (const group of byKey.values()) {
    if (group.length === 1) {
      out.set(group[0]!.memberId, { displayName: base.get(group[0]!.memberId)! });
      continue;
    }
    const prints = group.map((m) => keyFingerprint(m.leaf.signatureKey).split(' '));
    let n = 1;
    while (n < prints[0]!.length && new Set(prints.map((p) => p.slice(0, n).join(' '))).size < group.length) n++;
    group.forEach((m, i) => out.set(m.memberId, { displayName: base.get(m.memberId)!, tag: prints[i]!.slice(0, n).join(' ') }));
  }
  return out;
}

/** One line of text for a label (system messages): "Alice · 48213". */
export function labelText(l: MemberLabel | undefined): string {
  if (l === undefined) return t('bg_someone');
  return l.tag === undefined ? l.displayName : `${l.displayName} · ${l.tag}`;
}

