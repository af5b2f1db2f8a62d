import { describe, expect, it, vi } from 'vitest';
import { classify, isGone, isTryAgain, isUnreachable, reportIfBug } from '../../lib/background/failure.ts';
import { RelayApiError } from '../../lib/background/relay-api.ts';
import { TokenError } from '../../lib/background/tokens.ts';
import { CryptoError, DecodeError, InternalError, UsageError, ValidationError } from '../../lib/mls/errors.ts';

describe('classify: one kind per failure', () => {
  it('sorts relay answers by what the background should do', () => {
    expect(classify(new RelayApiError(0, 'unreachable', 'no route')).kind).toBe('offline');
    expect(classify(new RelayApiError(503, 'capacity', 'busy')).kind).toBe('offline');
    expect(classify(new RelayApiError(409, 'stale_capability', 'rotated')).kind).toBe('conflict');
    expect(classify(new RelayApiError(409, 'token_spent', 'spent')).kind).toBe('conflict');
    expect(classify(new RelayApiError(404, 'not_found', 'gone')).kind).toBe('refused');
    expect(classify(new RelayApiError(429, 'quota_exceeded', 'full')).kind).toBe('refused');
    expect(classify(new RelayApiError(502, 'malformed', 'nonsense')).kind).toBe('hostile');
    expect(classify(new RelayApiError(409, 'stale_capability', 'x')).relayCode).toBe('stale_capability');
  });

  it('treats a missing session or an empty wallet as "not yet", a bad proof as hostile', () => {
    expect(classify(new TokenError('no-session', 'x')).kind).toBe('offline');
    expect(classify(new TokenError('empty', 'x')).kind).toBe('offline');
    expect(classify(new TokenError('bad-proof', 'x')).kind).toBe('hostile');
    expect(classify(new TokenError('key-changed', 'x')).kind).toBe('hostile');
  });

  it('drops what breaks a rule or a check, and never drops our own bugs', () => {
    expect(classify(new DecodeError('truncated', 'short')).kind).toBe('hostile');
    expect(classify(new ValidationError('V-LN-3', 'bad leaf')).kind).toBe('hostile');
    expect(classify(new CryptoError('aead-open', 'tag')).kind).toBe('hostile');
    expect(classify(new UsageError('misuse')).kind).toBe('bug');
    expect(classify(new InternalError('invariant')).kind).toBe('bug');
    expect(classify(new TypeError('undefined is not a function')).kind).toBe('bug');
    expect(classify('a string').kind).toBe('bug');
  });

  it('knows try_again is the relay being busy for a moment: reachable, retryable', () => {
    const busy = new RelayApiError(503, 'try_again', 'busy');
    expect(classify(busy).kind).toBe('offline');
    expect(isTryAgain(busy)).toBe(true);
    expect(isUnreachable(busy)).toBe(false);
    expect(isTryAgain(new RelayApiError(503, 'capacity', 'full'))).toBe(false);
    expect(isTryAgain(new Error('try_again'))).toBe(false);
  });

  it('knows a 404 means the thing is already gone', () => {
    expect(isGone(new RelayApiError(404, 'not_found', 'gone'))).toBe(true);
    expect(isGone(new RelayApiError(409, 'conflict', 'x'))).toBe(false);
    expect(isGone(new Error('x'))).toBe(false);
  });

  it('tells a relay that gave no answer from one that answered busy', () => {
    expect(isUnreachable(new RelayApiError(0, 'unreachable', 'no route'))).toBe(true);
    expect(isUnreachable(new RelayApiError(503, 'capacity', 'busy'))).toBe(false);
    expect(isUnreachable(new TokenError('no-session', 'x'))).toBe(false);
  });

  it('logs our own bug from a best-effort step (its name only), and nothing for the expected failures', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      reportIfBug('testing', new RelayApiError(0, 'unreachable', 'no route'));
      reportIfBug('testing', new RelayApiError(404, 'not_found', 'gone'));
      reportIfBug('testing', new DecodeError('truncated', 'short'));
      expect(log).not.toHaveBeenCalled();
      reportIfBug('testing', new TypeError('secret text'));
      expect(log).toHaveBeenCalledTimes(1);
      expect(log.mock.calls[0]).toEqual(['MicroChat background: a bug while testing', 'TypeError']);
    } finally {
      log.mockRestore();
    }
  });
});
