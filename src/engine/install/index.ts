/** Running an install plan: progress, cancel, teardown, resume, the install log and the bug-report bundle. */
export { runPlan } from './runner';
export { InstallLog, type LogEntry, type LogLevel, type InstallLogOptions } from './log';
export { writeLogBundle, BUNDLE_FILES, type LogBundleParts } from './bundle';
export { realFs, realProbes, findDeployment, findKernel, type Probes } from './real';
export { retryAdvice, writesDisk, type RetryAdvice } from './advice';
export { teardownCheck, type TeardownCheck } from './teardown';
export { EngineState, recoverLeftovers, removeRunDir, stateFilePath, type EngineStateRecord, type RecoveryReport } from './leftovers';
export { PROGRESS_INTERVAL_MS } from './progress';
export { SpeedCalibration } from './speed';
export type {
  DeploymentPaths,
  ExecStreaming,
  FsOps,
  OutputProgress,
  OutputProgressParser,
  RunAction,
  RunContext,
  RunOptions,
  RunOutcome,
  StreamingExecOptions,
} from './types';
