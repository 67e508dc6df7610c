// The transport algorithms jmp-ssh and jmp-sftp offer, following current OpenSSH
// hardening (and what ssh-audit accepts without warnings): no SHA-1 anywhere,
// no NIST-curve kex, MACs only in encrypt-then-MAC mode, no compression.
// ssh2 appends `kex-strict-s-v00@openssh.com` (strict key exchange, the
// Terrapin fix) to whatever kex list it is given, so it stays offered.
import type { Algorithms } from 'ssh2';

export const SERVER_ALGORITHMS = {
  // sntrup761x25519 (post-quantum hybrid) is not implemented by ssh2.
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
  ],
  // AEAD first; CTR only with the -etm MACs below.
  cipher: [
    'chacha20-poly1305@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-gcm@openssh.com',
    'aes256-ctr',
    'aes192-ctr',
    'aes128-ctr',
  ],
  hmac: ['hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com'],
  // The host key is ed25519; RSA only with SHA-2 signatures should one be configured.
  serverHostKey: ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256'],
  // Compression before authentication is attack surface, and interactive traffic gains little from it.
  compress: ['none'],
} as const satisfies Algorithms;

/** Options for `new ssh2.Server(...)`: spread next to hostKeys. */
export const serverAlgorithmOptions = (): { algorithms: Algorithms } => ({
  algorithms: {
    kex: [...SERVER_ALGORITHMS.kex],
    cipher: [...SERVER_ALGORITHMS.cipher],
    hmac: [...SERVER_ALGORITHMS.hmac],
    serverHostKey: [...SERVER_ALGORITHMS.serverHostKey],
    compress: [...SERVER_ALGORITHMS.compress],
  },
});
