/**
 * "Share this page", asked rather than done: the context-menu click only
 * records an offer (the URL may be private), the views show it with the
 * conversation to send it to, and nothing is sent until the person confirms
 * one conversation by id. The suggestion is fixed when the offer is made: a
 * member who sends a message afterwards makes their conversation the most
 * recent, but does not move where this share goes.
 *
 * The offer lives in the background's memory only: if the worker stops before
 * the person answers, the offer is gone and nothing was sent.
 */
import { randomId } from '../bytes.ts';
import { LIMITS, type ConversationSummary, type ShareOffer } from '../protocol/channel.ts';

/** A page title is the page's own text: shown and sent, but bounded. */
const TITLE_MAX = 300;

/** The message a share sends: the title on its own line when there is one, then the URL. */
export function shareText(title: string, url: string): string | undefined {
  const t = title.trim().slice(0, TITLE_MAX);
  if (url.length > LIMITS.messageText) return undefined;
  const withTitle = `${t}\n${url}`;
  return t === '' || withTitle.length > LIMITS.messageText ? url : withTitle;
}

/**
 * The conversation a share is suggested for: the most recently active one the
 * person can post in, preferring those not archived.
 */
export function suggestShareTarget(conversations: readonly ConversationSummary[]): string | undefined {
  const byActivity = (a: ConversationSummary, b: ConversationSummary): number => b.lastActivity - a.lastActivity;
  const open = conversations.filter((c) => c.status === 'active').sort(byActivity);
  return (open.find((c) => c.archived !== true) ?? open[0])?.id;
}

/** An offer for a page; undefined when the URL is not http(s) or too long to send whole. */
export function makeShareOffer(title: string, url: string, conversations: readonly ConversationSummary[]): ShareOffer | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  const text = shareText(title, url);
  if (text === undefined) return undefined;
  const suggestedId = suggestShareTarget(conversations);
  return { shareId: randomId(), url, title: title.trim().slice(0, TITLE_MAX), text, ...(suggestedId === undefined ? {} : { suggestedId }) };
}
