/**
 * The first line of a joiner's history. MLS gives a joiner only the epochs
 * from its own on, so what was said before cannot be decrypted or shown. The
 * background stores it as a system message when a join by invite completes
 * (inbox.ts `ownCommitReturned`); the message list recognises it to not also claim
 * "This is the beginning of the conversation" above it. No dependencies, so
 * views may import it.
 */
export const JOINER_NOTICE = "Messages sent before you joined aren't shown.";
