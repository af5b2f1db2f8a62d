// Invite expiry (issue 17, item 14): the background accepts only the offered
// choices (1 hour, 1 day, 7 days, 30 days) for an expiring invite and none for
// a one-time one, whatever a view sends; the list says how long is left.
import { describe, expect, it } from 'vitest';
import { CHANNEL, INVITE_EXPIRY_HOURS, ONE_TIME_INVITE_HOURS, parseRequest } from '../../lib/protocol/channel.ts';
import { expiresIn } from '../../lib/view/expires-in.ts';

const create = (params: Record<string, unknown>) => ({ channel: CHANNEL, method: 'invite.create', params });

describe('invite.create expiry, checked by the background', () => {
  it('offers exactly 1 hour, 1 day, 7 days and 30 days', () => {
    expect(INVITE_EXPIRY_HOURS).toEqual([1, 24, 168, 720]);
    expect(ONE_TIME_INVITE_HOURS).toBe(168);
  });

  it.each(INVITE_EXPIRY_HOURS)('accepts an expiring invite for %i hours', (h) => {
    expect(parseRequest(create({ conversationId: 'c1', mode: 'expiring', expiresInHours: h })).params).toEqual({
      conversationId: 'c1',
      mode: 'expiring',
      expiresInHours: h,
    });
  });

  it('accepts a one-time invite with no expiry', () => {
    expect(parseRequest(create({ conversationId: 'c1', mode: 'one-time' })).params).toEqual({ conversationId: 'c1', mode: 'one-time' });
  });

  it.each([
    ['a number of hours not offered', { mode: 'expiring', expiresInHours: 48 }],
    ['the old free-form maximum plus one', { mode: 'expiring', expiresInHours: 721 }],
    ['zero', { mode: 'expiring', expiresInHours: 0 }],
    ['a fraction', { mode: 'expiring', expiresInHours: 1.5 }],
    ['a string', { mode: 'expiring', expiresInHours: '24' }],
    ['no expiry for an expiring invite', { mode: 'expiring' }],
    ['an expiry for a one-time invite', { mode: 'one-time', expiresInHours: 24 }],
    ['an unknown mode', { mode: 'forever', expiresInHours: 24 }],
  ])('refuses %s', (_what, p) => {
    expect(() => parseRequest(create({ conversationId: 'c1', ...p }))).toThrowError(expect.objectContaining({ code: 'bad-request' }));
  });

  it('checks invite.link strictly: ids only, nothing else', () => {
    const link = (params: Record<string, unknown>) => ({ channel: CHANNEL, method: 'invite.link', params });
    expect(parseRequest(link({ conversationId: 'c1', inviteId: 'inv_1' })).params).toEqual({ conversationId: 'c1', inviteId: 'inv_1' });
    expect(() => parseRequest(link({ conversationId: 'c1', inviteId: '../x' }))).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    expect(() => parseRequest(link({ conversationId: 'c1', inviteId: 'inv_1', all: true }))).toThrowError(
      expect.objectContaining({ code: 'bad-request' }),
    );
  });
});

describe('expiresIn', () => {
  const now = 1_700_000_000_000;
  const H = 3_600_000;
  it.each([
    [-1, 'expired'],
    [0, 'expired'],
    [30_000, 'expires in less than a minute'],
    [90_000, 'expires in 2 minutes'],
    [60_000, 'expires in 1 minute'],
    [H - 1000, 'expires in 1 hour'],
    [5 * H, 'expires in 5 hours'],
    [24 * H - 1000, 'expires in 1 day'],
    [36 * H, 'expires in 2 days'],
    [6 * 24 * H + 3 * H, 'expires in 6 days'],
    [7 * 24 * H - 5000, 'expires in 7 days'],
    [30 * 24 * H, 'expires in 30 days'],
  ])('%i ms left reads “%s”', (left, text) => {
    expect(expiresIn(now + left, now)).toBe(text);
  });
});
