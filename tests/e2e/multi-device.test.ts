/**
 * One person, several devices (issue 18), end to end: Alice on Chromium and
 * on Firefox ESR, Bob on Chromium, each with the built extension and a
 * virtual passkey authenticator, against a real relay process. Nothing is
 * mocked; the one Node device (g) is the real background on the same relay.
 * The steps build on each other and live in ./multi-device/, gathered here in
 * the order they run; ./multi-device/world.ts holds the people they share.
 * Screenshots go to artifacts/e2e/md-*.png.
 */
import { useWorld } from './multi-device/world.ts';
import './multi-device/link.ts';
import './multi-device/people.ts';
import './multi-device/impostor.ts';
import './multi-device/own-devices.ts';
import './multi-device/direct.ts';
import './multi-device/removal.ts';

useWorld();
