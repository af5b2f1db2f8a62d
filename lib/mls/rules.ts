/**
 * Every validation rule the engine enforces, one ID per rule. The ID is
 * written at the check (`// V-TREE-1 (§7.1)`, `new ValidationError('V-TREE-1', …)`)
 * and in the test that breaks it, so one grep finds both;
 * `tests/mls/rule-coverage.test.ts` fails when an ID here has no test.
 *
 * A rule either comes from RFC 9420 (`rfc`: the section that asks for it) or
 * is MicroChat's own (`own`: where it comes from). IDs are never reused: a
 * merged or retired rule leaves a gap in its family's numbering.
 */

interface RfcRule {
  /** The RFC 9420 section(s) the rule comes from. */
  readonly rfc: `§${string}`;
  readonly summary: string;
}

interface OwnRule {
  /** Why MicroChat adds the rule (it is not in RFC 9420). */
  readonly own: string;
  readonly summary: string;
}

export type Rule = RfcRule | OwnRule;

export const RULES = {
  // Decoding: enum values we can parse (a DecodeError labelled with the ID).
  'V-VERSION-1': { rfc: '§6', summary: 'only mls10 messages are read' },
  'V-MSG-1': { rfc: '§6', summary: 'wire_format is one whose body we can parse' },
  'V-FRAME-1': { rfc: '§6', summary: 'content_type is application, proposal or commit' },
  'V-FRAME-2': { rfc: '§6', summary: 'sender_type is a defined value' },
  'V-FRAME-3': { rfc: '§6.1', summary: 'content is authenticated only as a Public- or PrivateMessage' },
  'V-FRAME-4': { rfc: '§6.3.1', summary: 'PrivateMessageContent padding is all zeros, else the message is malformed' },
  'V-CRED-1': { rfc: '§5.3, §13.5', summary: 'credential_type is one we can parse' },
  'V-LEAF-SRC-1': { rfc: '§7.2', summary: 'leaf_node_source is a defined value' },
  'V-NODE-1': { rfc: '§12.4.3.3', summary: 'node_type is leaf or parent' },
  'V-PROP-1': { rfc: '§12.1, §13.5', summary: 'proposal_type is one we can parse' },
  'V-POR-1': { rfc: '§12.4', summary: 'ProposalOrRefType is proposal or reference' },

  // Message protection and receipt.
  'V-PROT-1': { rfc: '§6', summary: 'application data only as a PrivateMessage' },
  'V-PROT-2': { rfc: '§6.2', summary: 'the membership_tag verifies' },
  'V-PROT-3': { rfc: '§6.1', summary: "the FramedContentTBS signature verifies under the sender's key" },
  'V-PROT-4': { rfc: '§6.3.2', summary: 'only members send PrivateMessages' },
  'V-PROT-5': { rfc: '§6.3.2', summary: 'SenderData leaf_index names a non-blank leaf' },
  'V-PROT-7': { rfc: '§6', summary: 'content is bound to one group and epoch' },
  'V-PROT-9': { rfc: '§6.1', summary: 'which content a sender type may send' },
  'V-PROT-10': { rfc: '§6.3.2', summary: 'SenderData decrypts and decodes' },
  'V-PROT-11': { rfc: '§6.3.1', summary: 'PrivateMessage content decrypts' },
  'V-RCV-1': { rfc: '§6', summary: 'the message is for this group' },
  'V-RCV-2': { rfc: '§6, §15.2', summary: 'handshake messages only in the current epoch; application data within the kept past epochs' },
  'V-RCV-3': { rfc: '§6.2', summary: 'a membership tag has the MAC length (GHSA-8x3w-qj7j-gqhf class)' },
  'V-RCV-4': { rfc: '§12.1.8.1', summary: 'external senders exist only with an external_senders extension' },
  'V-APP-1': { rfc: '§12.4', summary: 'no application data while proposals are pending' },

  // Secret tree and transcript.
  'V-ST-1': { rfc: '§6.3.2, §9', summary: "the sender's leaf index lies inside the tree" },
  'V-ST-2': { rfc: '§9.2', summary: 'a generation key is used once' },
  'V-ST-3': { rfc: '§9.2', summary: 'bounded forward skip (local policy the RFC leaves to members)' },
  'V-ST-5': { rfc: '§9', summary: 'a generation is a uint32' },
  'V-TH-1': { rfc: '§8.2', summary: "only a Commit's content enters the confirmed transcript" },
  'V-TH-2': { rfc: '§6.1, §8.2', summary: 'a Commit carries a confirmation_tag' },

  // Proposals: who may send them, and what a received one may hold.
  'V-SND-1': { rfc: '§12.1.8.1', summary: 'an external sender sends only add/remove/psk/reinit/gce' },
  'V-SND-2': { rfc: '§12.1.8', summary: 'a new_member_proposal sender sends only Add' },
  'V-SND-3': { rfc: '§12.1.8', summary: 'a new_member_commit sender sends no standalone proposal' },
  'V-SND-4': { rfc: '§12.1.8', summary: 'new_member_proposal senders only when the group accepts them (its policy)' },
  'V-PRP-1': { rfc: '§12.1.6', summary: 'no standalone ExternalInit' },
  'V-PRP-3': { rfc: '§12.1', summary: 'a replayed proposal is cached once' },
  'V-PRP-4': { rfc: '§12.1', summary: 'a bounded proposal cache (local policy)' },
  'V-PRP-5': { rfc: '§8.4, §12.1.4', summary: 'a PreSharedKey proposal names a PSK we hold' },
  'V-UPD-1': { rfc: '§12.1.2', summary: "an Update's sender occupies a non-blank leaf" },
  'V-REM-1': { rfc: '§12.1.3', summary: 'a Remove names a non-blank leaf' },
  'V-RI-1': { rfc: '§12.1.5', summary: 'a ReInit does not lower the protocol version' },
  'V-GCE-1': { rfc: '§11.1, §12.1.7', summary: "every member supports the new required_capabilities" },
  'V-GCE-2': { rfc: '§12.4.3, §13.4', summary: 'every member supports every new non-default extension' },
  'V-GCE-3': { rfc: '§13.4', summary: 'no GroupContext extension type twice' },
  'V-PSK-1': { rfc: '§11.2, §12.1.4', summary: 'resumption/reinit PSK only while reinitializing' },
  'V-PSK-2': { rfc: '§11.3, §12.1.4', summary: 'resumption/branch PSK only while branching' },
  'V-PSK-3': { rfc: '§8.4, §12.1.4', summary: 'psk_nonce has length KDF.Nh' },
  'V-PSK-4': { rfc: '§8.4, §12.2', summary: 'no PreSharedKeyID twice' },
  'V-PSK-5': { rfc: '§8.4', summary: 'at most one resumption PSK with usage reinit or branch' },
  'V-PSK-6': { rfc: '§8.4', summary: 'PSKLabel index/count fit a uint16' },
  'V-PSK-7': { rfc: '§8.4', summary: 'every referenced PSK is available' },

  // Commits.
  'V-CM-1': { rfc: '§12.4', summary: 'every proposal reference is known' },
  'V-CM-2': { rfc: '§12.4.2', summary: 'not our own Commit (use the state createCommit returned)' },
  'V-CM-3': { rfc: '§12.4', summary: 'the path is present when required (GHSA-gwp3-968w-m7gv)' },
  'V-CM-4': { rfc: '§12.4.2', summary: 'the confirmation tag matches' },
  'V-CM-5': { rfc: '§6.1, §12.4.2', summary: 'the confirmation tag has the MAC length (GHSA-8x3w-qj7j-gqhf class)' },
  'V-CM-6': { rfc: '§12.4', summary: 'only a member or a new member (external Commit) commits' },
  'V-CM-7': { rfc: '§12.4.2', summary: 'an Update of our own leaf that we did not send is refused' },
  'V-PL-1': { rfc: '§12.2', summary: 'no Update from the committer' },
  'V-PL-2': { rfc: '§12.2', summary: 'no Remove of the committer' },
  'V-PL-3': { rfc: '§12.2', summary: 'at most one Update/Remove per leaf' },
  'V-PL-4': { rfc: '§12.2', summary: 'PSK ids are distinct' },
  'V-PL-5': { rfc: '§12.2', summary: 'at most one GroupContextExtensions' },
  'V-PL-6': { rfc: '§12.2', summary: 'a ReInit comes alone' },
  'V-PL-7': { rfc: '§12.2', summary: 'no ExternalInit in a regular Commit' },
  'V-EC-1': { rfc: '§12.2', summary: 'an external Commit references no proposal' },
  'V-EC-2': { rfc: '§12.2', summary: 'an external Commit has exactly one ExternalInit' },
  'V-EC-3': { rfc: '§12.2', summary: 'an external Commit removes at most one leaf' },
  'V-EC-4': { rfc: '§12.2', summary: 'an external Commit holds only ExternalInit, Remove and PreSharedKey' },
  'V-EC-5': { rfc: '§12.4.3.2', summary: "an external Commit has a path, whose leaf carries the signer's key" },
  'V-EC-6': { rfc: '§12.4.3.2', summary: "an external Commit removes only the joiner's own old leaf" },

  // UpdatePaths and TreeKEM.
  'V-UP-1': { rfc: '§7.6', summary: 'one UpdatePathNode per filtered-direct-path node' },
  'V-UP-2': { rfc: '§7.6, §12.4.2', summary: "each node's ciphertext count is its copath child's resolution size" },
  'V-UP-3': { rfc: '§7.6, §12.4.2', summary: "the public keys derived from the path secrets are the UpdatePath's" },
  'V-UP-4': { rfc: '§7.3, §12.4.2', summary: 'the UpdatePath leaf has source commit' },
  'V-UP-5': { rfc: '§12.4.2', summary: "the UpdatePath leaf changes the committer's encryption key" },
  'V-UP-6': { rfc: '§12.4.2', summary: 'no public key of the UpdatePath is already in the tree, nor twice in the path' },
  'V-UP-7': { rfc: '§7.6', summary: 'every UpdatePath key is one the KEM can encrypt to (RFC 9180 §7.1)' },
  'V-PH-1': { rfc: '§7.9.2, §12.4.3.1', summary: 'every non-blank parent node is parent-hash valid' },
  'V-PH-2': { rfc: '§7.9.2', summary: "the UpdatePath leaf's parent_hash is the recomputed one" },
  'V-TK-1': { rfc: '§7.4', summary: 'every private key we hold matches the tree, on our own direct path' },
  'V-TK-2': { rfc: '§12.4.3.1', summary: "the Welcome's path secret is for a node above our leaf" },

  // Ratchet trees received from others (validateTree).
  'V-RT-1': { rfc: '§12.4.3.3', summary: 'the node list is non-empty and ends with a non-blank node' },
  'V-RT-2': { rfc: '§12.4.3.3', summary: 'leaves at even positions, parents at odd ones' },
  'V-RT-3': { rfc: '§12.4.3.3', summary: 'the tree is no larger than we accept (local policy)' },
  'V-TREE-1': { rfc: '§7.1', summary: 'unmerged_leaves sorted in increasing order' },
  'V-TREE-2': { rfc: '§12.4.3.1', summary: 'each unmerged leaf is a non-blank leaf below the node' },
  'V-TREE-3': { rfc: '§12.4.3.1', summary: 'every non-blank node between an unmerged leaf and its parent lists it' },
  'V-TREE-4': { rfc: '§12.4.3.1', summary: "a parent's encryption key appears in no other node" },
  'V-TREE-5': { rfc: '§7.3, §12.4.3.1', summary: 'every leaf signature verifies' },
  'V-TREE-7': { rfc: '§12.4.3.1', summary: "the tree hash is the GroupInfo's tree_hash" },

  // LeafNodes (§7.3).
  'V-LN-1': { rfc: '§7.3', summary: "the leaf's signature verifies under its own signature_key" },
  'V-LN-2': { rfc: '§5.3.1', summary: 'the application accepts the credential' },
  'V-LN-3': { rfc: '§7.3, §11.1', summary: 'the leaf supports every type the group requires' },
  'V-LN-4': { rfc: '§7.2', summary: "the leaf's credential type is among its capabilities" },
  'V-LN-5': { rfc: '§7.2, §7.3', summary: 'the lifetime covers now, and is not longer than policy allows' },
  'V-LN-6': { rfc: '§7.3', summary: 'leaf_node_source matches where the leaf appeared' },
  'V-LN-7': { rfc: '§7.2, §7.3', summary: 'every non-default extension is listed in capabilities' },
  'V-LN-8': { rfc: '§7.3', summary: 'signature_key and encryption_key unique among the members' },
  'V-LN-9': { rfc: '§7.3', summary: "credential types supported both ways between changed leaves and the members" },
  'V-LN-10': { rfc: '§7.3', summary: "an Update changes the sender's encryption key" },
  'V-LN-11': { rfc: '§13.4', summary: 'no leaf extension type twice' },
  'V-LN-12': { rfc: '§5.3.1', summary: "a member's replacement leaf keeps its credential identity" },
  'V-LN-13': { rfc: '§7.3', summary: "an Update's encryption key is one the KEM can encrypt to (RFC 9180 §7.1)" },

  // KeyPackages (§10.1).
  'V-KP-1': { rfc: '§10.1', summary: 'cipher suite and version match the group' },
  'V-KP-2': { rfc: '§10.1', summary: 'the leaf is a valid key_package leaf listing the suite and version' },
  'V-KP-3': { rfc: '§10.1', summary: "the KeyPackage signature verifies under the leaf's key" },
  'V-KP-4': { rfc: '§10.1', summary: 'the leaf encryption_key differs from init_key' },
  'V-KP-5': { rfc: '§13.4', summary: 'the leaf supports every GroupContext extension' },
  'V-KP-6': { rfc: '§10, §13.4', summary: 'KeyPackage extensions listed in capabilities, none twice' },
  'V-KP-7': { rfc: '§10.1', summary: 'init_key and leaf encryption_key are keys the KEM can encrypt to (RFC 9180 §7.1)' },

  // Joining.
  'V-WEL-1': { rfc: '§12.4.3.1', summary: "the Welcome's suite is our KeyPackage's" },
  'V-WEL-2': { rfc: '§12.4.3.1', summary: 'the Welcome has secrets for our KeyPackage' },
  'V-WEL-3': { rfc: '§12.4.3.1', summary: 'the group secrets decrypt under our init key' },
  'V-WEL-4': { rfc: '§7.4, §8', summary: 'joiner_secret and path_secret are KDF.Nh long' },
  'V-WEL-5': { rfc: '§12.4.3.1', summary: 'the GroupInfo decrypts under the welcome key' },
  'V-WEL-6': { rfc: '§12.4.3.1', summary: 'the GroupInfo signer leaf exists and is not blank' },
  'V-WEL-7': { rfc: '§12.4.3', summary: 'the GroupInfo signature verifies' },
  'V-WEL-8': { rfc: '§12.4.3.1', summary: "the GroupInfo's suite is the KeyPackage's" },
  'V-WEL-9': { rfc: '§11.2, §11.3, §12.4.3.1', summary: 'a reinit/branch Welcome starts the group at epoch 1' },
  'V-WEL-10': { rfc: '§12.4.3.1', summary: 'the GroupInfo confirmation tag matches' },
  'V-JOIN-1': { rfc: '§12.4.3.1', summary: 'there is a ratchet tree (extension or out of band)' },
  'V-JOIN-3': { rfc: '§12.4.3.1', summary: "our leaf is our KeyPackage's leaf" },
  'V-JOIN-4': { rfc: '§12.4.3, §13.4', summary: 'we support every non-default GroupContext extension' },
  'V-JOIN-5': { rfc: '§12.4.3.1', summary: 'we are not already in a group with this group_id' },
  'V-JOIN-6': { rfc: '§13.4', summary: 'GroupContext and GroupInfo extension lists hold no type twice' },
  'V-EJ-1': { rfc: '§12.4.3.2', summary: 'the GroupInfo carries external_pub' },
  'V-EJ-2': { rfc: '§12.4.3.2', summary: "the GroupInfo signature verifies under the signer's leaf" },
  'V-EJ-3': { rfc: '§12.4.3.2', summary: 'the GroupInfo confirmation tag has the MAC length (GHSA-8x3w-qj7j-gqhf class)' },

  // MicroChat roles (lib/mls/group/role-rules.ts), judged on the roles and tree before the Commit.
  'V-ROLE-1': { own: 'MicroChat roles extension', summary: "a Remove of another member's leaf comes from an admin" },
  'V-ROLE-2': { own: 'MicroChat roles extension', summary: 'a change to the roles (or dropping them) comes from an admin' },
  'V-ROLE-3': { own: 'MicroChat roles extension', summary: 'after a roles change an admin is still a member, and new admins are members' },
  'V-ROLE-4': { own: 'MicroChat roles extension', summary: 'a ReInit comes from an admin' },
  'V-ROLE-5': { own: 'MicroChat roles extension', summary: 'under the "admins" invite policy, an Add comes from an admin' },
  'V-ROLE-6': { own: 'MicroChat roles extension', summary: "a newcomer cannot carry an admin's identity" },
  'V-ROLE-7': { own: 'MicroChat roles extension', summary: 'roles in a GroupContextExtensions proposal decode strictly' },
  'V-ROLE-8': { own: 'MicroChat roles extension', summary: 'roles cannot be added to a group created without them' },
} as const satisfies Record<string, Rule>;

/** A rule ID from the table: a typo at a check fails the type check. */
export type RuleId = keyof typeof RULES;

