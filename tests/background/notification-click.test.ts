/**
 * Clicking a notification (issue 17, item 5): the side panel is opened inside
 * the click (before anything is awaited, or Chrome refuses for want of a user
 * gesture), on that conversation; a tab of the panel page when it cannot be.
 */
import { describe, expect, it } from 'vitest';
import { onNotificationClick, type ClickDeps } from '../../lib/background/notification-click.ts';
import { notificationId } from '../../lib/background/notification-policy.ts';

function deps(opts: { open?: 'ok' | 'refused' | 'none'; visible?: boolean }) {
  const log: string[] = [];
  const d: ClickDeps = {
    ...(opts.open === 'none'
      ? {}
      : {
          openPanel: () => {
            log.push('openPanel');
            return opts.open === 'refused' ? Promise.reject(new Error('may only be called in response to a user gesture')) : Promise.resolve();
          },
        }),
    clear: async (id) => log.push(`clear ${id}`),
    app: Promise.resolve({ openConversation: (id) => void log.push(`show ${id}`), viewVisible: () => opts.visible ?? false }),
    openTab: async () => log.push('tab'),
  };
  return { d, log };
}

describe('notification click', () => {
  it('opens the side panel synchronously, within the click, then shows the conversation', async () => {
    const { d, log } = deps({ open: 'ok' });
    const done = onNotificationClick(notificationId('conv1'), d);
    expect(log[0]).toBe('openPanel'); // before the first await
    await done;
    expect(log).toEqual(['openPanel', `clear ${notificationId('conv1')}`, 'show conv1']);
  });

  it('refused (Firefox, or a lost gesture) with no panel visible: the panel page opens in a tab', async () => {
    const { d, log } = deps({ open: 'refused', visible: false });
    await onNotificationClick(notificationId('conv1'), d);
    expect(log).toEqual(['openPanel', `clear ${notificationId('conv1')}`, 'show conv1', 'tab']);
  });

  it('refused while a sidebar is visible: it shows the conversation, no tab', async () => {
    const { d, log } = deps({ open: 'refused', visible: true });
    await onNotificationClick(notificationId('conv1'), d);
    expect(log).not.toContain('tab');
    expect(log).toContain('show conv1');
  });

  it('a browser without a panel API opens the tab; ids that are not ours are ignored', async () => {
    const a = deps({ open: 'none' });
    await onNotificationClick(notificationId('conv1'), a.d);
    expect(a.log).toContain('tab');
    const b = deps({ open: 'ok' });
    await onNotificationClick('other-extension-thing', b.d);
    expect(b.log).toEqual([]);
  });
});
