import type { InstallSlice, Slice } from './types';

/** Placeholder: the progress page's slice (issue 5) replaces this. */
export const installSlice: Slice<InstallSlice> = () => () => ({
  install: { state: null, error: null, busy: false, dismissed: false },
  async loadInstallState() {},
  async beginInstall() {},
  async cancelInstall() {},
  async retryInstall() {},
  dismissInstall() {},
  applyProgress() {},
});
