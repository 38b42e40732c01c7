// Start to a booted login prompt, for the oci-rootfs VM test: the test image (cached), the install
// inside the VM (engine onto a virtio disk, CLI onto a qcow2 image), then boots with OVMF and SeaBIOS
// until the login prompt. Needs root, QEMU and mmdebstrap; says why and skips otherwise.
import { ociImageUnavailable } from '../test/support/oci-test-image';
import { killAllVms, vmImage, vmUnavailable } from '../test/vm/index';
import { bootAndLogin, installOciInVm } from '../test/vm/oci-rootfs';

export async function vmBootFigures(print: (line: string) => void = console.log): Promise<void> {
  const why = vmUnavailable() ?? ociImageUnavailable();
  if (why) {
    print(`oci-rootfs start to login: skipped (${why})`);
    return;
  }
  const started = performance.now();
  await vmImage(() => {});
  const run = await installOciInVm(() => {});
  try {
    const installed = (performance.now() - started) / 1000;
    if (run.engine?.outcome?.kind !== 'finished') {
      print(`oci-rootfs start to login: the install in the VM did not finish (${JSON.stringify(run.engine?.outcome ?? run.engine?.exception ?? 'no result')})`);
      return;
    }
    print(`oci-rootfs VM (${run.vm.accel}): image ${run.image.cached ? 'cached' : `built in ${run.image.buildSeconds.toFixed(0)} s`}; VM start to command ${run.vm.bootSeconds.toFixed(1)} s; engine install ${run.engine.seconds.toFixed(1)} s; CLI qcow2 image ${run.cli?.seconds?.toFixed(1) ?? '?'} s; whole VM run ${run.vm.totalSeconds.toFixed(1)} s`);
    for (const firmware of ['uefi', 'bios'] as const) {
      const r = await bootAndLogin(run.disk, firmware, { timeoutMs: 180_000 });
      print(`oci-rootfs ${firmware}: power-on to login prompt ${r.loginPromptSeconds.toFixed(1)} s (target 120 s, ${r.accel}); from the start of the bench (image, VM, install) to this login prompt ${(installed + r.loginPromptSeconds).toFixed(0)} s`);
    }
  } finally {
    killAllVms();
    run.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await vmBootFigures();
