/**
 * Files on this device (issue #20): a sent or downloaded attachment's
 * plaintext, kept in the `files` store one sealed chunk per row (vault.ts,
 * bound to its conversation, file id and index), like every other content.
 * A file is written chunk by chunk, so it never has to be whole in memory;
 * its message record names it (`attachment.fileId`) only once every chunk is
 * in, and chat-store.ts deletes it with its message or conversation.
 */
import { fileRange } from './chat-store.ts';
import { fileSlot, type Database } from './db.ts';
import type { Vault } from './vault.ts';

export class AttachmentFiles {
  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
  ) {}

  async put(conversationId: string, fileId: string, index: number, plain: Uint8Array): Promise<void> {
    await this.vault.writing(async () => {
      const sealed = await this.vault.seal('files', fileSlot(conversationId, fileId, index), plain);
      await this.db.put('files', { conversationId, fileId, index, sealed });
    });
  }

  /** Chunk `index`, or undefined when the file has no such chunk (or is gone). */
  async read(conversationId: string, fileId: string, index: number): Promise<Uint8Array | undefined> {
    const row = await this.db.get('files', [conversationId, fileId, index]);
    return row === undefined ? undefined : this.vault.open('files', fileSlot(conversationId, fileId, index), row.sealed);
  }

  /** Whether chunk `index` is the file's last. */
  async isLast(conversationId: string, fileId: string, index: number): Promise<boolean> {
    return (await this.db.getKey('files', [conversationId, fileId, index + 1])) === undefined;
  }

  /** Forget a file that never became a message's (a cancelled upload, a download that failed its check). */
  async drop(conversationId: string, fileId: string): Promise<void> {
    await this.db.delete('files', fileRange(conversationId, fileId));
  }
}
