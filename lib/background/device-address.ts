/**
 * How others reach one device without a link: its relay account (whose
 * KeyPackages the directory hands out) and the mailbox its Welcomes go to.
 * Travels only inside encrypted MLS content (the signed roster).
 */
export interface DeviceAddress {
  accountId: string;
  welcomeMailboxId: string;
}
