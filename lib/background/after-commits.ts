/**
 * Work done for the person in the background (a sync from another of our
 * devices, an announcement to newcomers) that meets a Commit: another
 * member's took the epoch ours was made for (LostRace), or one of our own is
 * still waiting for the relay's order (ChangeInFlight). Both pass by
 * themselves within moments, so the work is tried again, each time a little
 * later, instead of being lost. Any other failure is the caller's.
 */
import { ChangeInFlight, LostRace } from './chat-errors.ts';

/** Tries before giving up: waits of 0.25, 0.5, … 2.25 s, about 11 s in all, longer than a Commit takes on a busy machine. */
const TRIES = 10;
const STEP_MS = 250;

export async function whenCommitsSettle<T>(work: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      const passing = err instanceof LostRace || err instanceof ChangeInFlight;
      if (!passing || i >= TRIES) throw err;
      await new Promise((r) => setTimeout(r, STEP_MS * i));
    }
  }
}
