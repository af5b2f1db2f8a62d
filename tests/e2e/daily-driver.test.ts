/**
 * The daily driver (issue 17), end to end: what a person does every day,
 * in real Chromium with the built extension, against a real relay process.
 * Nothing is mocked. Each part lives in its own module in ./daily-driver/
 * and opens its own people and relay (./daily-driver/people.ts); this file
 * only gathers them, so the whole issue runs as one e2e file.
 * Screenshots go to artifacts/e2e/daily-*.png.
 */
import './daily-driver/composer.ts';
import './daily-driver/list-share.ts';
import './daily-driver/invites.ts';
import './daily-driver/lock.ts';
import './daily-driver/notifications.ts';
import './daily-driver/receipts.ts';
import './daily-driver/connection-account.ts';
import './daily-driver/roles.ts';
