// Preloaded into jmp-ssh by the ssh-sessions benchmark (node --import) when
// BENCH_SSH_CPU_PROFILE names a file: the first SIGUSR2 starts V8's sampling
// profiler, the second stops it and writes the profile there (.cpuprofile,
// readable by Chrome DevTools or `node test/bench/ssh-sessions/profile-top.mjs`).
// The bench signals around its typing rounds, so the profile holds the
// keystroke path, not the logins. Changes nothing in jmp-ssh itself.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.BENCH_SSH_CPU_PROFILE;
if (file) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.setSamplingInterval', { interval: 1000 }, () =>
        session.post('Profiler.enable', () => session.post('Profiler.start')),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, r) => {
      if (err) return;
      // Whole or not at all: the bench waits for the file to appear.
      writeFileSync(`${file}.tmp`, JSON.stringify(r.profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
