// Moved to @jmp/ssh-server (shared with jmp-sftp); kept for the tests and tools that import it from here.
export { generateEd25519KeyPair, loadOrCreateHostKey } from '@jmp/ssh-server/host-key';
