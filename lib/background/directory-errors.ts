/**
 * The typed failures of adding devices by KeyPackage and of joining by
 * Welcome (device-adds.ts, welcome-join.ts). Callers test them by type.
 */
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import * as text from './text.ts';

/** The device has no KeyPackage left at the relay (not even a last-resort one): it cannot be added now. */
export class NoKeyPackage extends ChannelError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.NotFound, text.NO_KEY_PACKAGE, options);
  }
}

/** The relay could not be reached while claiming or delivering. */
export class DirectoryOffline extends ChannelError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, text.offline(text.Activity.addDevices), options);
  }
}

/** The claimed KeyPackage is not one we may add (malformed, badly signed, expired, not for this group). */
export class BadKeyPackage extends ChannelError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.InvalidInput, text.BAD_KEY_PACKAGE, options);
  }
}

/** The Commit is in, but a Welcome could not be posted yet: it is kept and posted when the relay is back (device-adds.ts). */
export class WelcomeNotDelivered extends ChannelError {
  constructor(options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, text.WELCOME_NOT_DELIVERED, options);
  }
}

/**
 * A Welcome (or its envelope) that fails any check: malformed, for none of
 * our KeyPackages, invalid per RFC 9420 §12.4.3.1, or with details that do
 * not open. Dropped with nothing changed.
 */
export class HostileWelcome extends Error {
  override readonly name = 'HostileWelcome';
}
