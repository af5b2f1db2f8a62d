/**
 * A hostile client for the role tests: it runs our engine with the role
 * rules switched off while it builds its Commit, so what it sends is a
 * well-formed, correctly signed and confirmed Commit that only the role
 * rules can refuse. Receivers run with the rules on.
 *
 * Usage in a test file (vi.mock is hoisted, so the mock lives there):
 *
 *   const hostile = vi.hoisted(() => ({ on: false }));
 *   vi.mock('../../lib/mls/group/role-rules.ts', async (orig) =>
 *     (await import('./support/hostile-roles.ts')).withHostileSwitch(orig, hostile));
 */
import type * as RoleRules from '../../../lib/mls/group/role-rules.ts';

export async function withHostileSwitch(orig: () => Promise<unknown>, hostile: { on: boolean }): Promise<typeof RoleRules> {
  const real = (await orig()) as typeof RoleRules;
  return {
    ...real,
    checkRoleRules: (input) => {
      if (!hostile.on) real.checkRoleRules(input);
    },
  };
}

/** Run `make` as the hostile client (role rules off), then switch them back on. */
export async function asHostile<T>(hostile: { on: boolean }, make: () => Promise<T>): Promise<T> {
  hostile.on = true;
  try {
    return await make();
  } finally {
    hostile.on = false;
  }
}
