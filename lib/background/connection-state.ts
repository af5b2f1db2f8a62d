/**
 * One truth about the relay once there is an account: the live connection.
 * The health check (GET /healthz) answers "is a relay there?" while a relay
 * URL is being chosen; afterwards the WebSocket knows better, so its state
 * also sets the relay's reachability, and settings never show "Connected"
 * next to "Offline".
 */
import type { ConnectionState, RelayStatus } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';

export const RELAY_UNREACHABLE = t('bg_relay_unreachable');

export function relayFromConnection(relay: RelayStatus, connection: ConnectionState, now = Date.now()): RelayStatus {
  if (connection === 'online') return { url: relay.url, state: 'reachable', checkedAt: now };
  if (connection === 'offline') return { url: relay.url, state: 'unreachable', checkedAt: now, detail: RELAY_UNREACHABLE };
  return relay;
}
