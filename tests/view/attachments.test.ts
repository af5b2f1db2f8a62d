/**
 * Files and images in the view (issue #20), every state: a file card, an
 * image's preview, a download under way (progress, cancel), a saved file
 * (Save), a hash mismatch (the error in place, nothing of the file), other
 * failures; the uploads above the composer (progress, cancelled, failed);
 * the composer refusing a file over 25 MiB; and what the view makes of
 * hostile input (tests/security/attachment-view.test.ts has the wire side).
 */
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import AttachmentCard from '@/components/AttachmentCard.svelte';
import UploadList from '@/components/UploadList.svelte';
import Composer from '@/components/Composer.svelte';
import { toB64 } from '@/lib/bytes.ts';
import type { AttachmentView } from '@/lib/protocol/attachments.ts';
import type { MessageView } from '@/lib/protocol/channel.ts';
import { AttachmentTransfers, type UploadView } from '@/lib/view/attachment-transfers.svelte.ts';

const JPEG = (() => {
  const b = new Uint8Array(64);
  b.set([0xff, 0xd8, 0xff, 0xe0]);
  return b;
})();

const file: AttachmentView = { name: 'Quarterly report.pdf', type: 'application/pdf', size: 1_234_567 };

describe('a file in a message', () => {
  it('a card with name, size and type, and Download', async () => {
    const ondownload = vi.fn();
    const { getByTestId, queryByTestId } = render(AttachmentCard, { attachment: file, ondownload });
    expect(getByTestId('attachment').dataset.state).toBe('remote');
    expect(getByTestId('attachment-name').textContent).toBe('Quarterly report.pdf');
    expect(getByTestId('attachment-details').textContent).toBe('1.2 MB · application/pdf');
    expect(queryByTestId('image-preview')).toBeNull();
    await fireEvent.click(getByTestId('attachment-download'));
    expect(ondownload).toHaveBeenCalledOnce();
  });

  it('downloading: a progress bar and Cancel', async () => {
    const oncancel = vi.fn();
    const { getByTestId, queryByTestId } = render(AttachmentCard, { attachment: file, progress: { done: 300, total: 1000 }, oncancel });
    expect(getByTestId('attachment').dataset.state).toBe('downloading');
    expect((getByTestId('attachment-progress') as HTMLProgressElement).value).toBe(30);
    expect(queryByTestId('attachment-download')).toBeNull();
    await fireEvent.click(getByTestId('attachment-cancel'));
    expect(oncancel).toHaveBeenCalledOnce();
  });

  it('saved on this device: Save', async () => {
    const onsave = vi.fn();
    const { getByTestId } = render(AttachmentCard, { attachment: { ...file, saved: true }, onsave });
    expect(getByTestId('attachment').dataset.state).toBe('saved');
    await fireEvent.click(getByTestId('attachment-save'));
    expect(onsave).toHaveBeenCalledOnce();
  });

  it('an image: the sender’s preview inline, with its name as the alternative text', () => {
    const { getByTestId } = render(AttachmentCard, { attachment: { ...file, name: 'cat.png', type: 'image/png', preview: { type: 'image/jpeg', data: toB64(JPEG) } } });
    const img = getByTestId('image-preview') as HTMLImageElement;
    expect(img.alt).toBe('Image: cat.png');
    expect(img.src.startsWith('data:image/jpeg;base64,/9j/4')).toBe(true);
  });

  it('hash mismatch: the error in its place, and nothing of the file, not even its preview', () => {
    const { getByTestId, queryByTestId } = render(AttachmentCard, { attachment: { ...file, preview: { type: 'image/jpeg', data: toB64(JPEG) }, error: 'hash' } });
    expect(getByTestId('attachment').dataset.state).toBe('hash');
    expect(getByTestId('attachment-error').textContent).toBe('This file was changed after it was sent, so it is not shown.');
    expect(queryByTestId('image-preview')).toBeNull();
    expect(queryByTestId('attachment-save')).toBeNull();
    expect(queryByTestId('attachment-download')).toBeNull();
  });

  it('a failed download says so and offers to try again; a file gone from the server says that', async () => {
    const ondownload = vi.fn();
    const failed = render(AttachmentCard, { attachment: { ...file, error: 'failed' }, ondownload });
    expect(failed.getByTestId('attachment-error').textContent).toBe('The file could not be downloaded.');
    await fireEvent.click(failed.getByTestId('attachment-retry'));
    expect(ondownload).toHaveBeenCalledOnce();
    failed.unmount();
    expect(render(AttachmentCard, { attachment: { ...file, error: 'gone' } }).getByTestId('attachment-error').textContent).toBe('This file is no longer on the server.');
  });
});

describe('files being sent', () => {
  const up = (over: Partial<UploadView>): UploadView => ({ key: 1, conversationId: 'c', name: 'big.zip', done: 0, total: 10_000_000, state: 'uploading', ...over });

  it('uploading: the name, how much is sent, a progress bar and Cancel', async () => {
    const oncancel = vi.fn();
    const { getByTestId } = render(UploadList, { uploads: [up({ done: 4_000_000 })], oncancel, ondismiss: vi.fn() });
    expect(getByTestId('upload').dataset.state).toBe('uploading');
    expect(getByTestId('upload-amount').textContent).toBe('4 MB of 10 MB');
    expect((getByTestId('upload-progress') as HTMLProgressElement).value).toBe(4_000_000);
    await fireEvent.click(getByTestId('upload-cancel'));
    expect(oncancel).toHaveBeenCalledWith(1);
  });

  it('cancelled: says so, and can be closed', async () => {
    const ondismiss = vi.fn();
    const { getByTestId, queryByTestId } = render(UploadList, { uploads: [up({ state: 'cancelled' })], oncancel: vi.fn(), ondismiss });
    expect(getByTestId('upload').textContent).toContain('Sending big.zip was cancelled.');
    expect(queryByTestId('upload-progress')).toBeNull();
    await fireEvent.click(getByTestId('upload-dismiss'));
    expect(ondismiss).toHaveBeenCalledWith(1);
  });

  it('failed: says why', () => {
    const { getByTestId } = render(UploadList, { uploads: [up({ state: 'failed', error: 'The relay cannot be reached.' })], oncancel: vi.fn(), ondismiss: vi.fn() });
    expect(getByTestId('upload-error').textContent).toBe('big.zip could not be sent: The relay cannot be reached.');
  });

  it('the transfers send a file chunk by chunk, with progress, and the message joins the conversation', async () => {
    const calls: { method: string; params: Record<string, unknown> }[] = [];
    const sentView = { id: 'm', conversationId: 'c' } as MessageView;
    const request = vi.fn(async (method: string, params: Record<string, unknown>) => {
      calls.push({ method, params });
      if (method === 'attachment.begin') return { uploadId: 'u1' };
      return params.index === 2 ? { message: sentView } : {};
    });
    const onsent = vi.fn();
    const t = new AttachmentTransfers(request as never, onsent, String);
    const bytes = new Uint8Array(2 * (1024 * 1024 - 16) + 10).fill(7);
    expect(await t.send('c', new File([bytes], 'data.bin', { type: 'application/octet-stream' }))).toBe(true);
    expect(calls.map((c) => `${c.method}${c.params.index ?? ''}`)).toEqual(['attachment.begin', 'attachment.chunk0', 'attachment.chunk1', 'attachment.chunk2']);
    expect(calls[0]!.params).toMatchObject({ conversationId: 'c', name: 'data.bin', size: bytes.length });
    expect(onsent).toHaveBeenCalledWith(sentView);
    expect(t.uploads).toEqual([]);
  });

  it('a file over 25 MiB is not sent by the transfers either', async () => {
    const request = vi.fn();
    const t = new AttachmentTransfers(request as never, vi.fn(), String);
    const big = { name: 'huge.iso', size: 25 * 1024 * 1024 + 1, type: '' } as File;
    expect(await t.send('c', big)).toBe(false);
    expect(request).not.toHaveBeenCalled();
  });
});

describe('the composer and files', () => {
  it('too big: a file over 25 MiB is not handed on, and the composer says so', async () => {
    const onfile = vi.fn();
    const { getByTestId } = render(Composer, { onsend: vi.fn(async () => true), onfile });
    const input = getByTestId('attach-input') as HTMLInputElement;
    const big = new File([new Uint8Array(1)], 'movie.mkv');
    Object.defineProperty(big, 'size', { value: 25 * 1024 * 1024 + 1 });
    const small = new File([new Uint8Array(10)], 'note.txt');
    Object.defineProperty(input, 'files', { value: [big, small], configurable: true });
    await fireEvent.change(input);
    expect(onfile).toHaveBeenCalledTimes(1);
    expect(onfile).toHaveBeenCalledWith(small);
    expect(getByTestId('file-notice').textContent).toBe('movie.mkv is too big to send: files can be at most 25 MiB.');
  });

  it('no attach button when the conversation cannot take files', () => {
    expect(render(Composer, { onsend: vi.fn(async () => true) }).queryByTestId('attach')).toBeNull();
  });
});

describe('hostile input, as the view renders it', () => {
  it('a preview of any type but JPEG or WebP is never an image (an old record, or a bug upstream)', () => {
    const svg = toB64(new TextEncoder().encode('<svg onload="alert(1)"/>'));
    const { queryByTestId } = render(AttachmentCard, { attachment: { ...file, preview: { type: 'image/svg+xml' as 'image/webp', data: svg } } });
    expect(queryByTestId('image-preview')).toBeNull();
  });

  it('a text/html file is a card like any other, and Save hands over octet-stream bytes under its safe name', async () => {
    const html: AttachmentView = { name: 'page.html', type: 'text/html', size: 30, saved: true };
    const { container, getByTestId } = render(AttachmentCard, { attachment: html });
    expect(getByTestId('attachment-details').textContent).toContain('text/html');
    expect(container.querySelector('iframe, object, embed, img')).toBeNull();
    const made: Blob[] = [];
    const clicked: HTMLAnchorElement[] = [];
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => (made.push(b as Blob), 'blob:x'));
    const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    try {
      const request = vi.fn(async () => ({ data: toB64(new TextEncoder().encode('<script>alert(1)</script>')), last: true }));
      await new AttachmentTransfers(request as never, vi.fn(), String).save('c', { id: 'm1', attachment: html } as MessageView);
      expect(made[0]!.type).toBe('application/octet-stream');
      expect(clicked[0]!.download).toBe('page.html');
    } finally {
      create.mockRestore();
      revoke.mockRestore();
      click.mockRestore();
    }
  });
});
