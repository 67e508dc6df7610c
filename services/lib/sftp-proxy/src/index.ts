// @jmp/sftp-proxy: the one SFTP implementation behind jmp-sftp (port 2222) and jmp-ssh's sftp subsystem (port 2200).
export { serveSftp, MAX_READ, type SftpLimits, type SftpSessionOptions } from './proxy.js';
export { FileAudit, type FileAuditOptions } from './audit.js';
export { resolveVirtual, type VirtualPath } from './paths.js';
export { refusal, TRANSFER_MODES, type TransferMode } from './policy.js';
export {
  sftpProxyConfigSpec,
  stagingS3ConfigSpec,
  limitsOf,
  stagingOf,
  sweepStaging,
  type SftpProxyConfig,
} from './config.js';
export { Staging, type StagingOptions } from './staging.js';
