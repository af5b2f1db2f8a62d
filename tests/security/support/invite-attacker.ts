/**
 * What an attacker on invites brings along: its own MLS group to lure a
 * newcomer into, its own sealing of an invite blob (written here, not taken
 * from lib/background/invite.ts, as an attacker would), and a look at the keys
 * a member's device holds for the conversation's invites (what a member who is
 * later removed walks away with).
 */
import { webcrypto } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { createGroup, encodeMessage, exportGroupInfo, generateIdentity } from '../../../lib/mls/group.ts';
import type { Device } from '../../integration/support/device.ts';

const enc = new TextEncoder();
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));

/** The keys a device holds for one open invite of a conversation. */
export interface HeldInvite {
  inviteId: string;
  key: Uint8Array;
  writeKey: Uint8Array;
  signingKey: Uint8Array | undefined;
}

/** What this device's background keeps for the conversation's invites (read from its memory, as a member could). */
export function heldInvites(d: Device, conversationId: string): HeldInvite[] {
  const chat = (d.app as unknown as { chat: { metas: Map<string, { invites: Record<string, unknown>[] }> } }).chat;
  const meta = chat.metas.get(conversationId);
  return (meta?.invites ?? []).map((i) => ({
    inviteId: String(i.inviteId),
    key: fromB64(String(i.key)),
    writeKey: fromB64(String(i.writeKey)),
    signingKey: typeof i.signingKey === 'string' ? fromB64(i.signingKey) : undefined,
  }));
}

/** The invite id and key of a code (either the paste-only code or an old `…/join#i=…&k=…` link). */
export function codeParts(code: string): { inviteId: string; key: Uint8Array } {
  const params = new URLSearchParams(code.includes('#') ? code.slice(code.indexOf('#') + 1) : code.slice(code.indexOf('?') + 1));
  return { inviteId: params.get('i')!, key: fromB64(params.get('k')!) };
}

/** A fresh MLS group the attacker alone controls, as an MLSMessage-framed GroupInfo (with ratchet tree and external key). */
export async function attackerGroupInfo(): Promise<{ groupInfo: Uint8Array; groupId: string }> {
  const suite = getCipherSuite(1);
  const state = await createGroup(suite, await generateIdentity(suite, enc.encode('Mallory')));
  return { groupInfo: encodeMessage(await exportGroupInfo(state)), groupId: b64(state.context.groupId) };
}

/**
 * An invite blob for the attacker's group, encrypted under the link key.
 * With `signingKey` it is signed the way members sign (a former member still
 * holding the invite's signing key); without, it is the unsigned layout.
 */
export function sealAsAttacker(key: Uint8Array, inviteId: string, groupInfo: Uint8Array, signingKey?: Uint8Array): Uint8Array {
  const queue = webcrypto.getRandomValues(new Uint8Array(32));
  const content = enc.encode(JSON.stringify({ gi: b64(groupInfo), q: b64(queue), n: 'Trip' }));
  let pt = content;
  if (signingKey !== undefined) {
    const label = enc.encode('microchat/invite/sig/v1\0');
    const signed = new Uint8Array([...label, ...fromB64(inviteId), ...content]);
    pt = new Uint8Array([...ed25519.sign(signed, signingKey), ...content]);
  }
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const ct = gcm(key, iv, new Uint8Array([...enc.encode('microchat/invite/v1'), ...enc.encode(inviteId)])).encrypt(pt);
  return new Uint8Array([...iv, ...ct]);
}

export { b64 };
