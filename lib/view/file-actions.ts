/**
 * What a message's file can do (issue #20), handed from the conversation
 * view to each AttachmentCard through Svelte context, so the message list in
 * between does not carry it. Without it (a message shown elsewhere) the card
 * only shows.
 */
import { getContext, setContext } from 'svelte';
import type { MessageView } from '../protocol/channel.ts';

export interface FileActions {
  /** A download under way for this message (total 0: asked, not started). */
  progress(message: MessageView): { done: number; total: number } | undefined;
  download(message: MessageView): void;
  cancel(message: MessageView): void;
  save(message: MessageView): void;
}

const KEY = Symbol('file-actions');

export function provideFileActions(actions: FileActions): void {
  setContext(KEY, actions);
}

export function fileActions(): FileActions | undefined {
  return getContext<FileActions | undefined>(KEY);
}
