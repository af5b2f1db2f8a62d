/**
 * Members compare the sealed-sender token keys they hold, inside MLS.
 *
 * The wallet pins one issuing key per period (token-key-pin.ts), but a relay
 * that gives each account its own key from the very start leaves a device
 * nothing to compare locally. Members of a conversation can: each says which
 * key it holds in an encrypted application message (`tokenkey`), which the
 * relay can neither read nor alter, and each judges the others' keys against
 * its own and the key list the relay shows it. A difference that no honest
 * rotation explains becomes a warning in the conversation.
 *
 * Bounded: a member announces when it joins (`reply: false`) and when its
 * key changes (`reply: true`); every member answers the first announcement
 * of each member once (`reply: true`), and answers are never answered. Each
 * (member, key) is warned about once per conversation while the background runs.
 */
import type { AppMessage } from './app-messages.ts';
import { randomId } from '../bytes.ts';
import type { TokenKeyInfo } from './relay-api.ts';
import { keysConsistent, type KeyPin } from './token-key-pin.ts';
import { reportIfBug } from './failure.ts';
import { t } from '../platform/i18n.ts';

export const TOKEN_KEY_PARTITION_WARNING = t('bg_token_key_partition');
export const TOKEN_KEY_REFUSED_WARNING = t('bg_token_key_refused');

export type TokenKeyMessage = Extract<AppMessage, { t: 'tokenkey' }>;

export interface TokenKeySource {
  /** The key this device holds for the current period. */
  pinned(): KeyPin | undefined;
  /** The key list the relay shows us now (anonymous). */
  published(): Promise<TokenKeyInfo[]>;
}

export class TokenKeyWatch {
  private readonly warned = new Set<string>();
  private readonly answered = new Set<string>();

  constructor(private readonly source: TokenKeySource) {}

  /** Our announcement, or undefined while we hold no key yet. */
  announcement(reply: boolean): TokenKeyMessage | undefined {
    const pin = this.source.pinned();
    if (pin === undefined) return undefined;
    return { v: 1, t: 'tokenkey', id: randomId(), at: Date.now(), keyId: pin.keyId, acceptUntil: pin.acceptUntil, reply };
  }

  /** Judge one member's announcement: warn in the conversation? answer with ours? */
  async judge(conversationId: string, memberId: string, m: TokenKeyMessage): Promise<{ warn: boolean; reply: boolean }> {
    const k = `${conversationId}\u0000${memberId}\u0000${m.keyId}`;
    // Answered once per member, whatever key they name: a member cannot make us send on demand.
    const who = `${conversationId}\u0000${memberId}`;
    const reply = !m.reply && !this.answered.has(who);
    if (reply) this.answered.add(who);
    const ours = this.source.pinned();
    if (ours === undefined || ours.keyId === m.keyId || this.warned.has(k)) return { warn: false, reply };
    let published: TokenKeyInfo[];
    try {
      published = await this.source.published();
    } catch (err) {
      // Offline: no verdict now; the next announcement (a key change, a join) asks again. A bug is logged.
      reportIfBug("reading the relay's token keys", err);
      return { warn: false, reply };
    }
    const warn = !keysConsistent(this.source.pinned(), m, published);
    if (warn) this.warned.add(k);
    return { warn, reply };
  }
}
