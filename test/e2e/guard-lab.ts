// The lab the guard suites share: host h1 enrolled, erin (password "erin password 12") with login on it, one
// block rule, and a jmp-ssh in front. Whatever started is stopped again if a later step fails.
import { startLab, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { startJmpSsh, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { enrolLabHosts, until, writeAgentConf } from './helpers.js';

export interface GuardLab {
  lab: Lab;
  api: TestApi;
  ssh: RunningSsh;
  h1: LabHost;
  close(): Promise<void>;
}

export async function startGuardLab(rule: { name: string; pattern: string }): Promise<GuardLab> {
  let lab: Lab | undefined, api: TestApi | undefined, ssh: RunningSsh | undefined;
  const close = async () => {
    await ssh?.close();
    await api?.close();
    await lab?.stop();
  };
  try {
    lab = await startLab({ hosts: ['h1'], prepare: (h) => writeAgentConf(h, { log: { level: 'warn' } }) });
    const h1 = lab.host('h1');
    api = await startApi({ listenHost: lab.bridgeAddress });
    const svc = await addService(api.db, (await addProject(api.db)).id);
    const ids = await enrolLabHosts(api, svc.id, [h1]);
    const erin = await addUser(api.db, { username: 'erin', password: 'erin password 12' });
    await addGrant(api.db, { subject_id: erin.id, scope_type: 'host', scope_id: ids.h1!, right: 'login' });
    await api.db('command_rules').insert({ ...rule, action: 'block', severity: 'high' });
    await h1.restartAgent();
    await until('h1 knows erin', async () => (await h1.exec(['getent', 'passwd', 'erin'])).code === 0, 20_000);
    ssh = await startJmpSsh(api);
    return { lab, api, ssh, h1, close };
  } catch (err) {
    await close();
    throw err;
  }
}
