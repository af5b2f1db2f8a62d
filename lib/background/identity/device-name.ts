/**
 * A name for this device that its person recognises in a list ("Firefox on
 * Linux"), guessed from the user agent. Only the person's own contacts see
 * it, inside the encrypted roster; it is a label, never a key.
 */
export function guessDeviceName(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : undefined;
  const os = /Android/.test(ua) ? 'Android' : /Windows/.test(ua) ? 'Windows' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /CrOS/.test(ua) ? 'ChromeOS' : /Linux/.test(ua) ? 'Linux' : undefined;
  if (browser !== undefined && os !== undefined) return `${browser} on ${os}`;
  return browser ?? os ?? 'This browser';
}

export function thisDeviceName(): string {
  return guessDeviceName(typeof navigator === 'undefined' ? undefined : navigator.userAgent);
}
