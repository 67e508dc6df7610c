// The stand-in for a Windows server that the typed-credentials suites share:
// lab host w1 running xrdp whose sesman checks a local password account, real
// guacd, jmp-api and jmp-rdp (recordings under `work`).
import { join } from 'node:path';
import { startLab, type Lab } from '../lab/lab.js';
import { prepareXrdp, startXrdp } from '../lab/xrdp.js';
import { startApi, type TestApi } from '../../services/api/test/harness.js';
import { person, startRdp, type RunningRdp } from '../../services/rdp/test/stack.js';
import { startGuacd, type RunningGuacd } from './guacd.js';

export const ACCOUNT = { name: 'winuser', uid: 4101, password: 'Wín-Pässwörd-7€' };

export interface WindowsLab {
  lab: Lab;
  api: TestApi;
  guacd: RunningGuacd;
  rdp: RunningRdp;
  recordings: string;
  /** A person logged in to the console with (or without) the login right on a Windows host that is w1. */
  person(right?: boolean): ReturnType<typeof person>;
  close(): Promise<void>;
}

/** `startwm`: what the desktop shows (test/lab/xrdp.ts; default: a still xterm). */
export async function startWindowsLab(work: string, startwm?: string): Promise<WindowsLab> {
  const parts: Partial<WindowsLab> = {};
  const close = async () => {
    await parts.rdp?.close();
    await parts.guacd?.stop();
    await parts.api?.close();
    await parts.lab?.stop();
  };
  try {
    const lab = (parts.lab = await startLab({
      hosts: ['w1'],
      agentCommand: null,
      prepare: (h) => prepareXrdp(h, { localAccounts: [ACCOUNT], ...(startwm ? { startwm } : {}) }),
    }));
    await startXrdp(lab.host('w1'));
    const api = (parts.api = await startApi());
    const guacd = (parts.guacd = await startGuacd(join(work, 'guacd.log')));
    const recordings = join(work, 'recordings');
    const rdp = (parts.rdp = await startRdp(api, guacd.port, { JMP_RDP_RECORDING_DIR: recordings }));
    return {
      lab,
      api,
      guacd,
      rdp,
      recordings,
      async person(right = true) {
        const p = await person(api, { kind: 'windows', right });
        await api
          .db('hosts')
          .where({ id: p.h.id })
          .update({ addresses: JSON.stringify([lab.host('w1').address]) });
        return p;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
