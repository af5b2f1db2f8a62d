// The recovery key (lib/background/backup/recovery-key.ts): written form, strict-but-lenient
// reading, the check that catches typos locally, and the derivations the relay sees.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromB64 } from '../../lib/bytes.ts';
import {
  RECOVERY_KEY_GROUPS,
  RecoveryKeyError,
  confirmationGroups,
  confirmsGroups,
  deriveBackupKeys,
  formatRecoveryKey,
  generateRecoverySecret,
  parseRecoveryKey,
  type RecoverySecret,
} from '../../lib/background/backup/recovery-key.ts';

const secretArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => b as RecoverySecret);
const problem = (typed: string): string => {
  try {
    parseRecoveryKey(typed);
    return 'accepted';
  } catch (err) {
    if (err instanceof RecoveryKeyError) return err.problem;
    throw err;
  }
};

describe('recovery key', () => {
  it('is 8 groups of 4 unambiguous symbols and reads back to the same secret', () => {
    fc.assert(
      fc.property(secretArb, (secret) => {
        const text = formatRecoveryKey(secret);
        expect(text).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$/);
        expect(Buffer.from(parseRecoveryKey(text)).equals(Buffer.from(secret))).toBe(true);
      }),
    );
  });

  it('has 128 random bits: two generated keys differ', () => {
    const a = generateRecoverySecret();
    expect(a.length).toBe(16);
    expect(formatRecoveryKey(a)).not.toBe(formatRecoveryKey(generateRecoverySecret()));
  });

  it('reads lowercase, spaces instead of dashes, and I/L/O for 1/1/0', () => {
    const secret = generateRecoverySecret();
    const text = formatRecoveryKey(secret);
    const sloppy = text.toLowerCase().replace(/-/g, '  ').replace(/1/g, 'l').replace(/0/g, 'o');
    expect(Buffer.from(parseRecoveryKey(sloppy)).equals(Buffer.from(secret))).toBe(true);
  });

  it('catches every single-symbol typo and every swap of neighbours locally (the check)', () => {
    // A fixed key, so the test is deterministic (the 24-bit check misses a typo with chance 2^-24).
    const text = formatRecoveryKey(Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff) as RecoverySecret).replace(/-/g, '');
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    let tried = 0;
    for (let i = 0; i < text.length; i++) {
      for (const c of alphabet) {
        if (c === text[i]) continue;
        const typo = text.slice(0, i) + c + text.slice(i + 1);
        expect(['check', 'version']).toContain(problem(typo));
        tried++;
      }
      if (i + 1 < text.length && text[i] !== text[i + 1]) {
        const swapped = text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
        expect(['check', 'version']).toContain(problem(swapped));
      }
    }
    expect(tried).toBe(32 * 31);
  });

  it('says what is wrong: too short, too long, a symbol outside the alphabet', () => {
    const text = formatRecoveryKey(generateRecoverySecret());
    expect(problem(text.slice(0, -1))).toBe('length');
    expect(problem(`${text}A`)).toBe('length');
    expect(problem('')).toBe('length');
    expect(problem(`${text.slice(0, -1)}U`)).toBe('symbol');
    expect(problem(`${text.slice(0, -1)}*`)).toBe('symbol');
    expect(problem('A'.repeat(10_000))).toBe('length');
  });

  it('derives a distinct key, id, access secret and item names; another key derives none of them', () => {
    const a = deriveBackupKeys(generateRecoverySecret());
    const b = deriveBackupKeys(generateRecoverySecret());
    expect(a.key.length).toBe(32);
    expect(a.accessSecret.length).toBe(32);
    expect(fromB64(a.backupId)?.length).toBe(16);
    expect(a.backupId).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);
    expect(a.itemName('manifest')).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/);
    expect(a.itemName('manifest')).not.toBe(a.itemName('segment:x'));
    expect(a.itemName('manifest')).not.toBe(b.itemName('manifest'));
    expect(a.backupId).not.toBe(b.backupId);
    expect(Buffer.from(a.key).equals(Buffer.from(a.accessSecret))).toBe(false);
    expect(Buffer.from(a.key).equals(Buffer.from(b.key))).toBe(false);
  });

  it('derives the same values from the same key (a restore finds the backup)', () => {
    const secret = generateRecoverySecret();
    const again = parseRecoveryKey(formatRecoveryKey(secret));
    const [a, b] = [deriveBackupKeys(secret), deriveBackupKeys(again)];
    expect(b.backupId).toBe(a.backupId);
    expect(Buffer.from(b.key).equals(Buffer.from(a.key))).toBe(true);
    expect(Buffer.from(b.accessSecret).equals(Buffer.from(a.accessSecret))).toBe(true);
    expect(b.itemName('manifest')).toBe(a.itemName('manifest'));
  });

  it('asks back two distinct groups, and accepts only those groups typed right', () => {
    for (let i = 0; i < 200; i++) {
      const [g1, g2] = confirmationGroups();
      expect(g1).toBeLessThan(g2);
      expect(g1).toBeGreaterThanOrEqual(0);
      expect(g2).toBeLessThan(RECOVERY_KEY_GROUPS);
    }
    const text = formatRecoveryKey(generateRecoverySecret());
    const groups = text.split('-');
    expect(confirmsGroups(text, [2, 6], [groups[2]!, groups[6]!])).toBe(true);
    expect(confirmsGroups(text, [2, 6], [groups[2]!.toLowerCase(), ` ${groups[6]!} `])).toBe(true);
    expect(confirmsGroups(text, [2, 6], [groups[6]!, groups[2]!])).toBe(groups[2] === groups[6]);
    expect(confirmsGroups(text, [2, 6], [groups[2]!])).toBe(false);
    expect(confirmsGroups(text, [2, 6], [groups[2]!, '*!?#'])).toBe(false);
    expect(confirmsGroups(text, [2, 9], [groups[2]!, ''])).toBe(false);
  });
});
