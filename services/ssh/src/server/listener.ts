// Moved to @jmp/ssh-server (shared with jmp-sftp); kept for the tests that import it from here.
export { createSshListener, PROXY_HEADER_TIMEOUT_MS, type ListenerOptions } from '@jmp/ssh-server/listener';
