/**
 * The full background (lib/background/engine.ts): the app, which the shell in
 * background.ts loads after a wake's first answer. Nothing runs here but
 * making it available.
 */
import { BackgroundApp } from '@/lib/background/background-app.ts';
import { provideEngine } from '@/lib/background/engine.ts';
import { sendTimings } from '@/lib/background/send-timing.ts';
import { wakeTimings } from '@/lib/background/wake-timing.ts';

export default defineUnlistedScript(() => {
  provideEngine({
    start: (deps) => BackgroundApp.start(deps),
    sendTimings: () => sendTimings.snapshot(),
    wakeTimings,
  });
});
