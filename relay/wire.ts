/**
 * The message wire format the relay pushes: a stored message as the contract's
 * `WireMessage` (lib/protocol/relay.ts), and the `msg` frame built from it.
 * A leaf: delivery.ts, bus.ts and ws.ts all speak it, and it imports none of them.
 */

import { toB64 } from '../lib/bytes.ts';
import type { WireMessage } from '../lib/protocol/relay.ts';
import type { StoredMessage } from './store.ts';

export type { WireMessage };

/** `payloadText`: the payload's base64url when already at hand (a message just received). */
export function toWire(m: StoredMessage, payloadText?: string): WireMessage {
  return { id: m.messageId, kind: m.kind, payload: payloadText ?? toB64(m.payload) };
}

/**
 * The push frame `{"t":"msg","mailboxId":…,"id":…,"kind":…,"payload":…}` for
 * one mailbox; the part after the mailbox id is serialized once per message
 * and shared by every recipient (fan-out to 50 should not re-escape 50 payloads).
 * The payload is base64url-encoded once for all recipients.
 */
export class PushFrame {
  private tail: string | undefined;
  constructor(readonly message: WireMessage) {}
  for(mailboxId: string): string {
    this.tail ??= JSON.stringify({ id: this.message.id, kind: this.message.kind, payload: this.message.payload }).slice(1);
    return `{"t":"msg","mailboxId":${JSON.stringify(mailboxId)},${this.tail}`;
  }
}

