/**
 * The encrypted, ordered channel the two devices talk over once CPace
 * agreed on a key (handshake.ts): ChaCha20-Poly1305 with one key per
 * direction, a sequence number per frame that is both in the header (the
 * AAD) and the nonce, and messages of any size cut into frames that fit the
 * relay's 64 KiB slot messages.
 *
 *   frame = version (1) | seq (u32 BE) | flags (1: bit 0 = more frames follow) | AEAD(chunk)
 *
 * Every frame must carry exactly the next sequence number: a frame that is
 * replayed, dropped, reordered or altered fails, and the channel is broken
 * for good (LinkError `tampered`): nobody can splice two runs together or
 * resend an old chunk of history.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { LinkError } from './errors.ts';
import type { LinkTransport } from './transport.ts';

const VERSION = 1;
const HEADER = 6;
const TAG = 16;
/** Plaintext per frame: the relay's 64 KiB limit minus header and tag, with room to spare. */
export const FRAME_CHUNK = 60 * 1024;
/** The largest message either side accepts (a history export is sent as many messages). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const MAX_SEQ = 0xffffffff;

function nonce(seq: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(8, seq);
  return n;
}

export class SecureChannel {
  private sendSeq = 0;
  private recvSeq = 0;
  private broken: LinkError | null = null;

  constructor(
    private readonly transport: LinkTransport,
    private readonly sendKey: Uint8Array,
    private readonly recvKey: Uint8Array,
  ) {}

  async send(message: Uint8Array): Promise<void> {
    if (this.broken !== null) throw this.broken;
    if (message.length > MAX_MESSAGE_BYTES) throw new RangeError('message too large for the link channel');
    let off = 0;
    do {
      const chunk = message.subarray(off, off + FRAME_CHUNK);
      off += chunk.length;
      if (this.sendSeq > MAX_SEQ) throw new RangeError('link channel exhausted');
      const header = new Uint8Array(HEADER);
      const view = new DataView(header.buffer);
      header[0] = VERSION;
      view.setUint32(1, this.sendSeq);
      header[5] = off < message.length ? 1 : 0;
      const sealed = chacha20poly1305(this.sendKey, nonce(this.sendSeq), header).encrypt(chunk);
      this.sendSeq++;
      const frame = new Uint8Array(HEADER + sealed.length);
      frame.set(header);
      frame.set(sealed, HEADER);
      await this.transport.send(frame);
    } while (off < message.length);
  }

  async receive(timeoutMs: number): Promise<Uint8Array> {
    if (this.broken !== null) throw this.broken;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const frame = await this.transport.receive(timeoutMs);
      const chunk = this.open(frame);
      total += chunk.length - 1;
      if (total > MAX_MESSAGE_BYTES) throw this.fail('malformed', 'a link message above the size limit');
      parts.push(chunk.subarray(1));
      if (chunk[0] === 0) break;
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** One frame: the flags byte, then the chunk. */
  private open(frame: Uint8Array): Uint8Array {
    if (frame.length < HEADER + TAG || frame[0] !== VERSION || (frame[5]! & ~1) !== 0) throw this.fail('tampered', 'a link frame is malformed');
    const seq = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(1);
    // Replayed, reordered or dropped frames: the sequence number is not the next one.
    if (seq !== this.recvSeq) throw this.fail('tampered', 'a link frame came twice or out of order');
    let plain: Uint8Array;
    try {
      plain = chacha20poly1305(this.recvKey, nonce(seq), frame.subarray(0, HEADER)).decrypt(frame.subarray(HEADER));
    } catch (cause) {
      throw this.fail('tampered', 'a link frame did not authenticate', cause);
    }
    this.recvSeq++;
    const out = new Uint8Array(plain.length + 1);
    out[0] = frame[5]!;
    out.set(plain, 1);
    return out;
  }

  private fail(code: 'tampered' | 'malformed', message: string, cause?: unknown): LinkError {
    this.broken = new LinkError(code, message, { cause });
    return this.broken;
  }
}
