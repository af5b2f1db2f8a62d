/**
 * The one part of noble's AES module we use, for noble-aes.ts to load on first use: importing the module's
 * namespace itself would keep all of it (every mode) in the bundle.
 */
export { gcm } from '@noble/ciphers/aes.js';
