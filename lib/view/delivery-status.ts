/**
 * What the status line under one of our own messages says, and what its
 * tooltip explains. "Sent" is the relay's word; "Delivered" and "Read" come
 * from the other members' encrypted receipts (lib/background/receipts.ts).
 * With read receipts off, "Read" is never shown: it reads "Delivered".
 */
import type { MessageView } from '../protocol/channel.ts';
import { t, type MessageKey } from '../platform/i18n.ts';

export type StatusKey = 'sending' | 'waiting' | 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusText {
  key: StatusKey;
  label: string;
  /** For the tooltip and screen readers: what the state means. */
  explanation: string;
}

const TEXTS: Record<StatusKey, { label: MessageKey; explanation: MessageKey }> = {
  sending: { label: 'status_sending', explanation: 'status_sending_explained' },
  waiting: { label: 'status_waiting', explanation: 'status_waiting_explained' },
  sent: { label: 'status_sent', explanation: 'status_sent_explained' },
  delivered: { label: 'status_delivered', explanation: 'status_delivered_explained' },
  read: { label: 'status_read', explanation: 'status_read_explained' },
  failed: { label: 'status_failed', explanation: 'status_failed_explained' },
};

/**
 * The status of an own message; null for others' messages and system lines.
 * Offline, a message on its way is not "sending": it says when it will go.
 */
export function statusText(m: MessageView, showRead: boolean, online = true): StatusText | null {
  if (!m.sender.self || m.kind !== 'text' || m.status === 'received') return null;
  let key: StatusKey = m.status === 'sending' && !online ? 'waiting' : m.status;
  if (m.status === 'sent' || m.status === 'sending') {
    if (m.delivery === 'read') key = showRead ? 'read' : 'delivered';
    else if (m.delivery === 'delivered') key = 'delivered';
  }
  return { key, label: t(TEXTS[key].label), explanation: t(TEXTS[key].explanation) };
}
