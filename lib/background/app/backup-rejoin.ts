/**
 * Where backup and restore get rejoining from: the test seam
 * (BackgroundDeps.rejoin), else the healing part of the open chat
 * (ChatService.healing: rejoin slots and resync by external Commit).
 */
import type { Rejoiner, RejoinSource } from '../backup/ports.ts';
import type { AppCore } from './core.ts';

export function backupRejoin(core: AppCore): { source: RejoinSource; rejoiner: Rejoiner } {
  const given = core.deps.rejoin;
  if (given !== undefined) return given;
  return {
    source: { ticketFor: async (id) => core.chat?.healing.ticketFor(id) },
    rejoiner: {
      rejoin: (id, ticket) => core.needChat().healing.rejoin(id, ticket),
    },
  };
}
