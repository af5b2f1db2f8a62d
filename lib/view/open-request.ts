/**
 * The popup asks the side panel to show a conversation. Both are pages of the
 * same extension origin, so localStorage is shared and its `storage` event
 * reaches a side panel that is already open. Only a conversation id crosses
 * (nothing secret), and it is consumed once read.
 */
const KEY = 'microchat.openConversation';

export function requestOpen(conversationId: string, storage: Storage = localStorage): void {
  storage.setItem(KEY, JSON.stringify({ conversationId, at: Date.now() }));
}

/** Read and clear a pending request made in the last minute. */
export function takeOpenRequest(storage: Storage = localStorage, now = Date.now()): string | null {
  const raw = storage.getItem(KEY);
  if (raw === null) return null;
  storage.removeItem(KEY);
  try {
    const v = JSON.parse(raw) as { conversationId?: unknown; at?: unknown };
    if (typeof v.conversationId !== 'string' || typeof v.at !== 'number' || now - v.at > 60_000) return null;
    return v.conversationId;
  } catch {
    return null;
  }
}

/** Call `onRequest` whenever another page asks to open a conversation. */
export function watchOpenRequests(onRequest: (conversationId: string) => void): () => void {
  const listener = (e: StorageEvent): void => {
    if (e.key !== KEY || e.newValue === null) return;
    const id = takeOpenRequest();
    if (id !== null) onRequest(id);
  };
  addEventListener('storage', listener);
  return () => removeEventListener('storage', listener);
}
