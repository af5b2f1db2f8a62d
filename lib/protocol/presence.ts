/**
 * What a view tells the background over its live port (view → background):
 * which conversation it shows, and whether the page is visible. A view that
 * goes away says nothing; its port's disconnect ends its presence. Part of
 * the channel contract (channel.ts re-exports it).
 */
export interface ViewPresence {
  type: 'presence';
  conversationId: string | null;
  visible: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strictly parse a view's presence message; anything else is null (and ignored). */
export function parsePresence(raw: unknown): ViewPresence | null {
  if (!isRecord(raw) || raw.type !== 'presence') return null;
  if (Object.keys(raw).some((k) => k !== 'type' && k !== 'conversationId' && k !== 'visible')) return null;
  const { conversationId, visible } = raw;
  if (typeof visible !== 'boolean') return null;
  if (conversationId !== null && (typeof conversationId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(conversationId))) return null;
  return { type: 'presence', conversationId, visible };
}
