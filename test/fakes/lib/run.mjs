// Dispatches a bootc command line; shared by the host-form fake and the podman fake, which runs
// bootc "inside the container" in-process with paths translated through the -v mounts.
import { parseBootc } from './cli.mjs';
import { toDisk } from './disk.mjs';
import { installFinalize, printConfiguration, toFilesystem } from './install.mjs';

/**
 * ctx: { uid, inContainer, containerImage (storage record or null), host(path) → host path or null,
 * container: what bootc can tell about the podman container it runs in (podman form only):
 * { privileged, pidHost, proc1Uid, rootless } }.
 */
export async function runBootc(argv, ctx) {
  const cmd = parseBootc(argv);
  if (cmd.verb === 'print-configuration') printConfiguration(cmd.opts, ctx);
  if (cmd.verb === 'finalize') return installFinalize(cmd.target, ctx);
  if (cmd.verb === 'to-disk') await toDisk(cmd, ctx);
  else await toFilesystem(cmd, ctx);
}
