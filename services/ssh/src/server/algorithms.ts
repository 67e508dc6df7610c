// Moved to @jmp/ssh-server (shared with jmp-sftp); kept for the tests that import it from here.
export { SERVER_ALGORITHMS, serverAlgorithmOptions } from '@jmp/ssh-server/algorithms';
