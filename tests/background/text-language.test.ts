/**
 * The background speaks the browser's language: its system messages, errors
 * and notifications come from the same messages.json as the views. The
 * modules read their constant sentences when they load (as the worker does
 * at start), so each language here loads them afresh.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useLocale } from '../support/i18n.ts';

async function load(locale: string) {
  vi.resetModules();
  // A fresh module graph has a fresh lib/platform/i18n.ts: install the language in that one.
  (await import('../support/i18n.ts')).useLocale(locale);
  const text = await import('../../lib/background/text.ts');
  const notes = await import('../../lib/background/epoch-notes.ts');
  const notify = await import('../../lib/background/notification-policy.ts');
  return { text, notes, notify };
}

const sender = { memberId: 'm1', displayName: 'Bob', self: false } as never;

describe('the background in the browser’s language', () => {
  afterEach(() => {
    useLocale('en');
    vi.resetModules();
  });

  it('speaks English by default, as the tests of its behaviour expect', async () => {
    const { text, notes } = await load('en');
    expect(text.created('Trip')).toBe('You created “Trip”.');
    expect(text.offline(text.Activity.join)).toBe('You are offline: joining needs the relay.');
    expect(notes.removalNote({ id: 'b', label: 'Bob' }, { id: 'me', label: 'You' }, 'me')).toBe('You removed Bob.');
  });

  it('speaks German to a German browser: system messages, errors and notifications', async () => {
    const { text, notes, notify } = await load('de');
    expect(text.created('Ausflug')).toBe('Du hast „Ausflug“ erstellt.');
    expect(text.renamed('Ana', 'Ausflug')).toBe('Ana hat die Unterhaltung in „Ausflug“ umbenannt.');
    expect(text.YOU_JOINED).toBe('Du bist der Unterhaltung beigetreten.');
    expect(text.NOT_A_MEMBER).toBe('Du bist nicht mehr in dieser Unterhaltung.');
    expect(text.offline(text.Activity.create)).toBe('Du bist offline: Unterhaltung erstellen braucht das Relay.');
    expect(text.addingDevice('Laptop', 2, 5)).toBe('Laptop wird zu 2 von 5 Unterhaltungen hinzugefügt…');
    // "You" conjugates differently from a name: its own sentence.
    expect(notes.removalNote({ id: 'b', label: 'Bob' }, { id: 'me', label: text.YOU }, 'me')).toBe('Du hast Bob entfernt.');
    expect(notes.removalNote({ id: 'b', label: 'Bob' }, { id: 'a', label: 'Ana' }, 'me')).toBe('Ana hat Bob entfernt.');
    expect(notes.removedYouNote({ id: 'me', label: text.YOU }, true)).toBe('Du hast die Unterhaltung beendet.');
    expect(notes.removedYouNote(undefined, false)).toBe('Jemand hat dich aus dieser Unterhaltung entfernt.');
    expect(notify.notificationText({ name: 'Familie', unread: 3 }, { text: 'Hallo', sender }, 'name')).toEqual({ title: 'Familie', message: '3 neue Nachrichten' });
  });

  it('speaks Arabic to an Arabic browser, with the names and numbers in place', async () => {
    const { text, notify } = await load('ar');
    expect(text.created('رحلة')).toBe('أنشأت «رحلة».');
    expect(text.otherRelay('a.example', 'b.example')).toBe('هذه الدعوة للخادم الوسيط a.example؛ وحسابك على b.example.');
    expect(notify.notificationText({ name: 'العائلة', unread: 1 }, { text: 'مرحبا', sender }, 'none')).toEqual({ title: 'MicroChat', message: 'رسالة جديدة' });
  });
});
