/**
 * Opening an invite link: the link (`<relay>/join#i=…&k=…`) lands on the
 * relay's /join page, whose fragment never reaches the relay. When the person
 * then clicks MicroChat's toolbar button, the popup (with the activeTab grant
 * that click gives) reads the tab's address and offers to join. The background
 * validates the link strictly; this only recognises its shape.
 */
import { browser } from 'wxt/browser';

export function looksLikeInviteLink(url: string | undefined): url is string {
  if (url === undefined) return false;
  try {
    const u = new URL(url);
    const params = new URLSearchParams(u.hash.replace(/^#/, ''));
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.pathname === '/join' && params.has('i') && params.has('k');
  } catch {
    return false;
  }
}

/** The active tab's address, when the toolbar click granted it to us. */
export async function activeTabUrl(): Promise<string | undefined> {
  try {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    return tab?.url;
  } catch {
    return undefined;
  }
}
