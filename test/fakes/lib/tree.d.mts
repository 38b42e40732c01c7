// Types for what TypeScript tests import from tree.mjs.
/** An SELinux image's policy files (relative path → content): /etc/selinux/config and file_contexts. */
export function selinuxFiles(policy: string): Record<string, string>;
