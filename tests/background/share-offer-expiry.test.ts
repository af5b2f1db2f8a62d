// An unanswered "share this page" offer goes away by itself; a newer offer
// replaces an older one; a page that is not http(s) is never offered.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { BackgroundApp } from '../../lib/background/background-app.ts';
import { openDatabase } from '../../lib/background/db.ts';

let n = 0;
const start = async (shareTtlMs: number): Promise<BackgroundApp> =>
  BackgroundApp.start({ db: await openDatabase(`share-offer-${process.pid}-${n++}`), version: 'test', shareTtlMs });

describe('share offers in the background', () => {
  it('expire when nobody answers', async () => {
    const app = await start(50);
    expect(app.offerShare('Doc', 'https://e.org/doc')).toBe(true);
    expect(app.snapshot.share?.url).toBe('https://e.org/doc');
    await new Promise((r) => setTimeout(r, 120));
    expect(app.snapshot.share).toBeUndefined();
  });

  it('a newer offer replaces the older, whose id no longer sends or cancels anything', async () => {
    const app = await start(60_000);
    app.offerShare('One', 'https://e.org/1');
    const first = app.snapshot.share!;
    app.offerShare('Two', 'https://e.org/2');
    const second = app.snapshot.share!;
    expect(second.shareId).not.toBe(first.shareId);
    await app.handlers['share.cancel']({ shareId: first.shareId });
    expect(app.snapshot.share?.shareId).toBe(second.shareId);
    await expect(app.handlers['share.send']({ shareId: first.shareId, conversationId: 'c1' })).rejects.toMatchObject({ code: 'not-found' });
    expect(app.snapshot.share?.shareId).toBe(second.shareId);
  });

  it('refuses pages that are not http(s)', async () => {
    const app = await start(60_000);
    expect(app.offerShare('x', 'chrome://settings')).toBe(false);
    expect(app.offerShare('x', 'file:///home/me/secret.pdf')).toBe(false);
    expect(app.snapshot.share).toBeUndefined();
  });
});
