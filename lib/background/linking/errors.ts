/**
 * The errors of device linking, by what went wrong, so the view can say it
 * plainly and tests can check the kind, never the message:
 *
 *   bad-code   the typed code is not a code (wrong length, letters, check)  the person's typo
 *   expired    the relay has no such slot any more (or never had, or it     start again
 *              was taken): the relay gives one answer for all three
 *   wrong-code the key exchange failed: the two devices used different      start again (the code is spent)
 *              codes, or someone in the middle guessed and lost
 *   tampered   a message on the secure channel did not authenticate, came   abort: the channel is broken
 *              twice or out of order
 *   malformed  an authenticated message broke the protocol (wrong version,  abort: a bug or a hostile peer
 *              shape or order)
 *   timeout    the other device did not answer in time                      start again
 *   aborted    the other device or the person stopped the link
 */
export type LinkErrorCode = 'bad-code' | 'expired' | 'wrong-code' | 'tampered' | 'malformed' | 'timeout' | 'aborted';

export class LinkError extends Error {
  override readonly name = 'LinkError';

  constructor(
    readonly code: LinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
