/**
 * A stable colour per person: the member id is hashed into a small palette
 * (`--sender-0` … `--sender-7` in components/theme.css, chosen for contrast on
 * the message bubble in both light and dark themes). The same member gets the
 * same colour on every device and in every session; names are not used, so two
 * people with the same name can still be told apart.
 */

export const SENDER_PALETTE_SIZE = 8;

/** FNV-1a over the id's UTF-16 code units: cheap, and spreads short ids well. */
export function senderColourIndex(memberId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < memberId.length; i++) {
    h ^= memberId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % SENDER_PALETTE_SIZE;
}

export function senderColour(memberId: string): string {
  return `var(--sender-${senderColourIndex(memberId)})`;
}
