/**
 * A member's name as one line of text. The background adds a tag (leading
 * fingerprint digits) when two members' names read the same, so whoever
 * picks another member's name is still told apart, in every place a name is
 * shown: message senders, the members list, confirmations, notifications.
 */
export function memberLabel(who: { displayName: string; tag?: string }): string {
  return who.tag === undefined ? who.displayName : `${who.displayName} · ${who.tag}`;
}
