// The verified marks: kept sealed across restarts, "changed" until verified again.
import { describe, expect, it } from 'vitest';
import { toB64 } from '../../../lib/bytes.ts';
import { VerifiedPeople } from '../../../lib/background/identity/verified-people.ts';
import { freshStore } from './support.ts';

describe('verified people', () => {
  it('keeps personId → identity key sealed, marks a change until verified again, and forgets on unverify', async () => {
    const { db, vault } = await freshStore();
    const v = await VerifiedPeople.load(db, vault);
    await v.verify('p1', 'key1');
    await v.markChanged('p1');
    await v.markChanged('nobody'); // not verified: nothing to degrade
    const again = await VerifiedPeople.load(db, vault);
    expect(again.get('p1')).toEqual({ identityKey: 'key1', changed: true });
    expect(again.get('nobody')).toBeUndefined();
    const raw = JSON.stringify(await db.get('secrets', 'verified'), (_, x: unknown) => (x instanceof Uint8Array ? toB64(x) : x));
    expect(raw).not.toContain('key1');
    await again.verify('p1', 'key2');
    expect((await VerifiedPeople.load(db, vault)).get('p1')).toEqual({ identityKey: 'key2' });
    await again.unverify('p1');
    expect((await VerifiedPeople.load(db, vault)).all().size).toBe(0);
  });
});
