/**
 * The one error the MIMI content codec throws. Content comes from another
 * member inside MLS, who may be hostile or run another client: whatever is
 * wrong with it is their input's fault, so there is a single class with a
 * reason code (what the check found), never a partial value and never any
 * other exception (tests/content/mimi-fuzz.test.ts holds us to that).
 *
 * Each reason names a rule of the draft (draft-ietf-mimi-content-08, the CDDL
 * of Appendix B and the limits of §"Security Considerations"); the check and
 * its test find each other with one grep of the code.
 */

export const ContentErrorReason = {
  /** Not well-formed CBOR, or CBOR outside our strict profile (duplicate keys, indefinite lengths, non-preferred encodings). */
  Cbor: 'cbor',
  /** Well-formed CBOR whose shape is not the CDDL's (wrong type, wrong array length, a value out of range). */
  Shape: 'shape',
  /** Over a limit the draft calls malicious (depth, part count, topicId, extension sizes) or over our size cap. */
  TooLarge: 'too-large',
  /** An encoder was given a value that breaks the CDDL: a bug of the caller, refused before any byte is written. */
  Unencodable: 'unencodable',
} as const;
export type ContentErrorReason = (typeof ContentErrorReason)[keyof typeof ContentErrorReason];

export class ContentError extends Error {
  override readonly name = 'ContentError';
  constructor(
    readonly reason: ContentErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
