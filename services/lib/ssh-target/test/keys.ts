// Test keys. ssh2 now and then makes an ed25519 pair it cannot parse back; retry.
import ssh2 from 'ssh2';

export function ed25519KeyPair(): { private: string; public: string } {
  for (let i = 0; i < 32; i++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const priv = ssh2.utils.parseKey(pair.private);
    const pub = ssh2.utils.parseKey(pair.public);
    if (
      !(priv instanceof Error) &&
      !(pub instanceof Error) &&
      pub.getPublicSSH().length === 51 &&
      priv.getPublicSSH().equals(pub.getPublicSSH())
    )
      return pair;
  }
  throw new Error('could not generate a usable ed25519 key pair');
}
