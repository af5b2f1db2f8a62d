/**
 * What we tell the other members inside the group, encrypted and bound to our
 * leaf by MLS: our display name (member-names.ts), the mailbox we listen on
 * (member-mailboxes.ts) and the token key we hold (token-key-watch.ts).
 * Newcomers cannot read what was said before they came, so each is said again
 * when someone joins. All best effort: a lost announcement is made again at the
 * next occasion and nothing waits for it.
 */
import { randomId } from '../bytes.ts';
import { memberLeaf } from '../mls/group.ts';
import { whenCommitsSettle } from './after-commits.ts';
import { systemMessage, type Conversations } from './conversations.ts';
import type { Outbox } from './outbox.ts';
import { TOKEN_KEY_PARTITION_WARNING, type TokenKeyMessage } from './token-key-watch.ts';
import * as text from './text.ts';

export class Announcements {
  constructor(
    private readonly c: Conversations,
    private readonly outbox: Outbox,
  ) {}

  /** A member told us their token key: warn if it differs from ours, and answer with ours. */
  async judgeTokenKey(id: string, memberId: string, app: TokenKeyMessage): Promise<void> {
    const watch = this.c.deps.tokenKeys;
    if (watch === undefined) return;
    const { warn, reply } = await watch.judge(id, memberId, app);
    if (warn) await this.c.note(id, TOKEN_KEY_PARTITION_WARNING);
    if (reply) await this.tokenKey(id, true);
  }

  /** Tell the members of one conversation which token key we hold. */
  async tokenKey(id: string, reply: boolean): Promise<void> {
    const app = this.c.deps.tokenKeys?.announcement(reply);
    if (app === undefined || !this.c.isActive(id)) return;
    // Best effort (see the header): the next key change or joiner asks again.
    await this.outbox.sendApp(id, app).catch(() => undefined);
  }

  /** Our token key changed (a new period): tell every conversation. */
  tokenKeyEverywhere(): void {
    for (const id of this.c.activeIds()) void this.tokenKey(id, true);
  }

  /** A visible system message in every live conversation. */
  async warnEverywhere(body: string): Promise<void> {
    for (const id of this.c.activeIds()) await this.c.note(id, body);
  }

  /** Tell the members our display name. */
  profileSoon(id: string): void {
    // Best effort (see the header): until the next one, the others show a placeholder.
    // A Commit under way (ours, or another member's racing ours) delays it; it is not lost for that.
    void whenCommitsSettle(() => this.profile(id)).catch(() => undefined);
    void whenCommitsSettle(() => this.person(id)).catch(() => undefined);
  }

  /** Tell the members which person and device our leaf is (identity/person-proof.ts), signed for this group and leaf. */
  private async person(id: string): Promise<void> {
    const own = this.c.deps.people?.own;
    if (own === undefined || !this.c.isActive(id)) return;
    const state = await this.c.group(id);
    const leaf = memberLeaf(state, state.ownLeaf);
    if (leaf === undefined) return;
    await this.outbox.sendApp(id, { v: 1, t: 'person', id: randomId(), at: Date.now(), ...own.claimFor(state.context.groupId, leaf.signatureKey) });
  }

  /** Our roster changed: tell every conversation. */
  personEverywhere(): void {
    // Best effort (see the header): the next joiner makes us say it again.
    for (const id of this.c.activeIds()) void this.person(id).catch(() => undefined);
  }

  private async profile(id: string): Promise<void> {
    if (!this.c.isActive(id)) return;
    await this.outbox.sendApp(id, { v: 1, t: 'profile', id: randomId(), name: this.c.deps.identity().displayName, at: Date.now() });
  }

  /** Our display name changed: tell every conversation, and note it in each. */
  async name(): Promise<void> {
    const name = this.c.deps.identity().displayName;
    await Promise.all(
      this.c.activeIds().map((id) =>
        this.outbox
          .sendApp(id, { v: 1, t: 'profile', id: randomId(), name, at: Date.now() }, (meta, msgId) => ({
            ...systemMessage(meta, text.youAreNowCalled(name)),
            id: msgId,
          }))
          // Best effort per conversation (see the header): one that cannot be told now must not stop the others.
          .catch(() => undefined)
          .then(() => this.person(id).catch(() => undefined)),
      ),
    );
  }

  /** Tell the other members which mailbox we listen on here (member-mailboxes.ts). */
  async mailbox(id: string): Promise<void> {
    const meta = this.c.metas.get(id);
    if (meta?.status !== 'active') return;
    const mailboxId = this.c.mailboxOf(meta)?.mailboxId;
    if (mailboxId === undefined) return;
    // Best effort (see the header): the next joiner makes us say it again.
    await this.outbox.sendApp(id, { v: 1, t: 'mailbox', id: randomId(), at: Date.now(), mailboxId }).catch(() => undefined);
  }
}
