// Runs one PAM authentication (authenticate, then account) inside a lab host
// with the libpam driver of jmp-native, the way a PAM application without
// sshd does it: xrdp-sesman answers every ECHO_OFF prompt with the RDP
// password and sets no PAM_RHOST. Prints the result as one JSON line.
//   node --import tsx test/e2e/pam-service.ts SERVICE USER ANSWER
import { pam } from '@jmp/native';

const [service, user, answer] = process.argv.slice(2);
if (!service || !user || answer === undefined) {
  process.stderr.write('usage: pam-service.ts SERVICE USER ANSWER\n');
  process.exit(2);
}
const r = await pam.authenticate({ service, user, answers: [answer] });
process.stdout.write(`${JSON.stringify({ result: r.result, step: r.step, messages: r.messages })}\n`);
