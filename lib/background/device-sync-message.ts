/**
 * The self-message our devices send each other (docs/identity.md, "Sync
 * between a person's devices"), only in the conversation of our own devices:
 *
 *   sync {v:1, t:'sync', id, at, action:'read',   conversationId, upTo}   read up to that message (its id)
 *   sync {v:1, t:'sync', id, at, action:'leave',  conversationId}         we left it
 *   sync {v:1, t:'sync', id, at, action:'delete', conversationId}         we deleted it here ("delete for me")
 *
 * Parsed strictly: exact fields, ids of our id alphabet. Whether it counts
 * (the MLS sender's leaf is one of our devices) is the inbox's judgement.
 */
export type DeviceSyncAction = { action: 'read'; conversationId: string; upTo: string } | { action: 'leave' | 'delete'; conversationId: string };

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const FIELDS = { read: ['v', 't', 'id', 'at', 'action', 'conversationId', 'upTo'], leave: ['v', 't', 'id', 'at', 'action', 'conversationId'], delete: ['v', 't', 'id', 'at', 'action', 'conversationId'] };

/** The action of a `sync` message's fields, or null for anything that is not exactly one. */
export function parseDeviceSync(r: Record<string, unknown>): DeviceSyncAction | null {
  const action = r.action;
  if (action !== 'read' && action !== 'leave' && action !== 'delete') return null;
  const keys = Object.keys(r);
  if (keys.length !== FIELDS[action].length || keys.some((k) => !FIELDS[action].includes(k))) return null;
  const conversationId = r.conversationId;
  if (typeof conversationId !== 'string' || !ID.test(conversationId)) return null;
  if (action !== 'read') return { action, conversationId };
  const upTo = r.upTo;
  return typeof upTo === 'string' && ID.test(upTo) ? { action, conversationId, upTo } : null;
}
