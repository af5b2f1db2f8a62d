/**
 * Where backup and restore get rejoining from: the test seam
 * (BackgroundDeps.rejoin) or the healing part's resync. Without either, a
 * backup holds no rejoin material, and a restore says of each conversation
 * that the backup has nothing to rejoin it with (RejoinFailure 'no_material').
 */
import type { Rejoiner, RejoinSource } from '../backup/ports.ts';
import type { AppCore } from './core.ts';

export function backupRejoin(core: AppCore): { source: RejoinSource; rejoiner: Rejoiner } {
  const given = core.deps.rejoin;
  if (given !== undefined) return given;
  return {
    source: { ticketFor: async () => undefined },
    rejoiner: {
      rejoin: async () => {
        throw new RangeError('no rejoin material can be read without the healing part');
      },
    },
  };
}
