// asciinema-player and its stylesheet, loaded only when a replay is opened.
import 'asciinema-player/dist/bundle/asciinema-player.css';
export { create } from 'asciinema-player';
export type { Player } from 'asciinema-player';
