/**
 * What the status line under one of our own messages says, and what its
 * tooltip explains. "Sent" is the relay's word; "Delivered" and "Read" come
 * from the other members' encrypted receipts (lib/background/receipts.ts).
 * With read receipts off, "Read" is never shown: it reads "Delivered".
 */
import type { MessageView } from '../protocol/channel.ts';

export type StatusKey = 'sending' | 'waiting' | 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusText {
  key: StatusKey;
  label: string;
  /** For the tooltip and screen readers: what the state means. */
  explanation: string;
}

const TEXTS: Record<StatusKey, Omit<StatusText, 'key'>> = {
  sending: { label: 'Sending…', explanation: 'Sending: on its way to the relay.' },
  waiting: {
    label: "Waiting: will be sent when you're back online",
    explanation: 'Waiting: MicroChat is offline. This message is kept on this device and goes to the relay as soon as the connection is back.',
  },
  sent: { label: 'Sent', explanation: "Sent: the relay has this message. Not every member's device has received it yet." },
  delivered: { label: 'Delivered', explanation: "Delivered: every member's device has received this message." },
  read: { label: 'Read', explanation: 'Read: every member has read this message.' },
  failed: { label: 'Not sent', explanation: 'Not sent: this message did not reach the relay. Use Retry to send it again.' },
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
  return { key, ...TEXTS[key] };
}
