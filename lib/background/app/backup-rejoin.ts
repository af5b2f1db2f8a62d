/**
 * Where backup and restore get rejoining from: the test seam
 * (BackgroundDeps.rejoin), else the healing part of the open chat
 * (ChatService.healing: rejoin slots and resync by external Commit). A
 * restored conversation's history is stored in it once it is rejoined.
 */
import type { Rejoiner, RejoinSource } from '../backup/ports.ts';
import type { AppCore } from './core.ts';

export function backupRejoin(core: AppCore): { source: RejoinSource; rejoiner: Rejoiner } {
  const given = core.deps.rejoin;
  if (given !== undefined) return given;
  return {
    source: { ticketFor: async (id) => core.chat?.healing.ticketFor(id) },
    rejoiner: {
      rejoin: async (id, ticket) => {
        const chat = core.needChat();
        await chat.healing.rejoin(id, ticket);
        await chat.keepHandedHistory(id);
      },
    },
  };
}
