export { planInstall, type PlanOptions, type PlanResult, type SystemFacts } from './planner';
export { partitionPath, sfdiskScript, TYPE, vfatUuid } from './layout';
export { planSecrets, SECRET_NAMES } from './secrets';
