/**
 * The identity and directory ports of linking (linking/ports.ts) over the
 * parts that implement them: this device's OwnIdentity (identity/) and the
 * chat's directory (device-adds.ts, app/directory.ts), for the session open
 * now. Tests pass fakes instead (BackgroundDeps.linkPorts).
 *
 * The identity travels as the identity part's link bundle (JSON text, read
 * back strictly by readLinkBundle) and the new roster as JSON text; the new
 * device takes the bundle with the new roster only if that roster lists
 * its own device key, so an existing device cannot hand over an identity
 * that does not vouch for the device it links.
 */
import { fromB64, toB64 } from '../../bytes.ts';
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import type { ChatService } from '../chat-service.ts';
import type { OwnIdentity } from '../identity/own-identity.ts';
import { parseRoster } from '../identity/person-proof.ts';
import { rosterHas } from '../identity/roster.ts';
import type { LinkPorts } from '../linking/ports.ts';
import { t } from '../../platform/i18n.ts';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch (cause) {
    throw new ChannelError(ErrorCode.InvalidInput, `The other device sent a damaged ${what}.`, { cause });
  }
}

/** The real ports, once the chat (and with it our identity and directory) is open. */
export function chatLinkPorts(chat: () => ChatService | undefined): LinkPorts {
  const needChat = (): ChatService => {
    const c = chat();
    if (c === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_unlock_first'));
    return c;
  };
  const own = (): OwnIdentity => {
    const o = needChat().people?.own;
    if (o === undefined) throw new ChannelError(ErrorCode.Unavailable, t('bg_err_no_identity'));
    return o;
  };
  return {
    identity: {
      async deviceKey() {
        return fromB64(own().deviceKey)!;
      },
      async exportForLink() {
        return enc.encode(JSON.stringify(own().exportForLink()));
      },
      async signRosterWith(device) {
        // Our own address goes in too, so that "Message" to the person reaches this device as well as the new one.
        // Without a directory session now, the entry stays as it was (the next roster we sign tries again).
        const ownAddress = await needChat()
          .deviceAddress()
          .catch(() => undefined);
        const roster = await own().signRosterWith({ deviceKey: toB64(device.deviceKey), name: device.name, addedAt: Date.now(), address: { ...device.address } }, ownAddress);
        return enc.encode(JSON.stringify(roster));
      },
      async importFromLink(identity, rosterBytes) {
        const me = own();
        const bundle = parseJson(identity, 'identity');
        const roster = parseRoster(parseJson(rosterBytes, 'roster'));
        if (roster === null || !rosterHas(roster, me.deviceKey)) {
          throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_roster_missing_device'));
        }
        if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) throw new ChannelError(ErrorCode.InvalidInput, t('bg_err_damaged_identity'));
        // The bundle carries the roster as it was; the one signed for this link replaces it (readLinkBundle checks its signature).
        await me.importFromLink({ ...bundle, roster });
      },
    },
    directory: {
      ownAddress: () => needChat().deviceAddress(),
      addDevices: (conversationId, devices) => needChat().addDevices(conversationId, devices),
    },
  };
}
