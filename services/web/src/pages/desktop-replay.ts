// Replay of a desktop session (#/desktop-replay/<session id>): guacd's
// recording of the display, played by Guacamole.SessionRecording with play,
// pause, seek and the duration.
import Guacamole from 'guacamole-common-js';
import { field, h } from '../dom.js';
import type { Page } from '../router.js';
import { heading } from './common.js';

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

export const desktopReplayPage: Page = {
  title: 'Desktop replay',
  render(main, params, signal) {
    const id = params.id!;
    const status = h('p', { class: 'desktop-status', 'aria-live': 'polite' }, 'Loading the recording…');
    const screen = h('div', { class: 'desktop-screen', 'data-state': 'loading' });
    main.append(heading('Desktop replay'), status, screen);
    // Through a tunnel: 1.5.0's Blob source reads an unset variable (its parseBlob gets undefined).
    const tunnel = new Guacamole.StaticHTTPTunnel(`/v1/sessions/${encodeURIComponent(id)}/desktop-recording`);
    const rec = new Guacamole.SessionRecording(tunnel);
    tunnel.onerror = (st: Guacamole.Status) => {
      screen.dataset.state = 'error';
      status.setAttribute('role', 'alert');
      status.textContent = `The recording could not be loaded: ${st.message ?? 'error'}.`;
    };
    const display = rec.getDisplay();
    screen.append(display.getElement());
    const play = h('button', { type: 'button' }, 'Play');
    const seek = h('input', { type: 'range', min: '0', max: '0', value: '0', step: '100' });
    const at = h('span', { class: 'replay-time' }, '0:00 / 0:00');
    main.append(h('div', { class: 'replay-controls' }, play, field('Position', seek), at));
    const show = (pos: number) => {
      seek.value = String(pos);
      at.textContent = `${clock(pos)} / ${clock(rec.getDuration())}`;
    };
    rec.onload = () => {
      const d = rec.getDuration();
      screen.dataset.state = 'loaded';
      screen.dataset.duration = String(d);
      seek.max = String(d);
      status.textContent = `Recording of ${clock(d)}.`;
      show(0);
    };
    rec.onseek = (pos: number) => show(pos);
    rec.onplay = () => (play.textContent = 'Pause');
    rec.onpause = () => (play.textContent = 'Play');
    play.addEventListener('click', () => (rec.isPlaying() ? rec.pause() : rec.play()));
    seek.addEventListener('change', () => rec.seek(Number(seek.value)));
    rec.connect();
    signal.addEventListener('abort', () => rec.disconnect());
  },
};
