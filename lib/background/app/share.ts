/**
 * "Share this page": the offer shown in the views until the person picks a
 * conversation and confirms (nothing is sent before; share-offer.ts), or it
 * expires unanswered.
 */
import { ChannelError, ErrorCode, type AppState, type ConversationSummary, type MessageView, type ShareOffer } from '../../protocol/channel.ts';
import { makeShareOffer, suggestShareTarget } from '../share-offer.ts';
import type { AppCore } from './core.ts';
import { t } from '../../platform/i18n.ts';

const SHARE_TTL_MS = 10 * 60_000;

export class ShareOffers {
  /** Offers that were given their suggestion already (one made while locked gets it at the unlock). */
  private readonly suggested = new Set<string>();

  constructor(
    private readonly core: AppCore,
    /** Try the relay now if the connection is down (someone is writing). */
    private readonly reconnectingNow: <T>(result: T) => T,
  ) {}

  /**
   * Record the offer and show it in the views. A newer offer replaces an
   * unanswered one. False when the URL cannot be shared.
   */
  offer(title: string, url: string): boolean {
    const offer = makeShareOffer(title, url, this.core.chat?.summaries() ?? []);
    if (offer === undefined) return false;
    this.core.update({ ...this.core.state, share: offer });
    // An offer nobody answered does not pop up hours later, when the panel is next opened.
    setTimeout(() => this.cancel(offer.shareId), this.core.deps.shareTtlMs ?? SHARE_TTL_MS);
    return true;
  }

  /** The offer to publish beside these conversations: one made while locked had nothing to suggest, so it gets its suggestion once, now. */
  withSuggestion(conversations: ConversationSummary[]): ShareOffer | undefined {
    const share = this.core.state.share;
    if (share === undefined || share.suggestedId !== undefined || this.suggested.has(share.shareId)) return share;
    this.suggested.add(share.shareId);
    const suggestedId = suggestShareTarget(conversations);
    return suggestedId === undefined ? share : { ...share, suggestedId };
  }

  /** Send the offered page to the conversation the person chose, once: the offer is gone before the send starts. */
  async send(shareId: string, conversationId: string): Promise<MessageView> {
    const offer = this.core.state.share;
    if (offer === undefined || offer.shareId !== shareId) throw new ChannelError(ErrorCode.NotFound, t('bg_err_share_gone'));
    const chat = this.core.needChat();
    this.core.update(withoutShare(this.core.state));
    try {
      return this.reconnectingNow(await chat.sendText(conversationId, offer.text));
    } catch (err) {
      // Not sent (e.g. the conversation ended meanwhile): the person can pick another.
      if (this.core.state.share === undefined) this.core.update({ ...this.core.state, share: offer });
      throw err;
    }
  }

  cancel(shareId: string): void {
    if (this.core.state.share?.shareId === shareId) this.core.update(withoutShare(this.core.state));
  }
}

function withoutShare(state: AppState): AppState {
  const { share: _gone, ...rest } = state;
  return rest;
}
