import { InstallPlanSchema, type InstallPlan, type PlanStep } from '../../src/shared/install';

/**
 * An erase plan for a UEFI x64 machine, validated by the schema: tests give the steps and what they
 * care about (the disk's path and size, an id); the rest is a blank 64 GiB disk and an OCI image.
 */
export function makePlan(steps: readonly PlanStep[], o: { id?: string; disk?: string; size?: number; serial?: string | null } = {}): InstallPlan {
  return InstallPlanSchema.parse({
    id: o.id ?? 'plan-test',
    createdAt: '2026-01-01T00:00:00Z',
    disk: { path: o.disk ?? '/dev/vdb', serial: o.serial === undefined ? 'S1' : o.serial, wwn: null, size: o.size ?? 64 * 1024 ** 3, byIdPath: null, diskSeq: null, ptUuid: null },
    firmware: 'uefi',
    arch: 'x64',
    layout: 'erase',
    partitions: [],
    kernelArgs: [],
    sourceImgref: 'oci:/images/debian',
    targetImgref: null,
    pointOfNoReturn: 0,
    summary: [],
    steps,
  });
}
