import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HELP, parseCommand, renderDevices } from './menu.js';

test('device commands: `device <name> [as <account>]`, `telnet <name>`, `devices`', () => {
  assert.deepEqual(parseCommand('device SW-01', []), { kind: 'device', name: 'sw-01' });
  assert.deepEqual(parseCommand('  telnet rtr-2  ', []), { kind: 'device', name: 'rtr-2' });
  assert.deepEqual(parseCommand('device sw-01 as netops', []), { kind: 'device', name: 'sw-01', account: 'netops' });
  assert.deepEqual(parseCommand('devices', []), { kind: 'devices' });
  assert.deepEqual(parseCommand('device', []), { kind: 'error', message: 'usage: device <name> [as <account>]' });
  assert.match(HELP, /device <name> \[as <account>\]/);
});

test('the device list shows name, protocol, environment and service', () => {
  const out = renderDevices([
    { name: 'sw-core-01', protocol: 'ssh', state: 'online', service: 'network' },
    { name: 'rtr-2', protocol: 'telnet', state: 'offline', service: null },
  ]);
  assert.match(out, /sw-core-01\s+ssh\s+\S.*network/);
  assert.match(out, /rtr-2\s+telnet\s+.*-\r\n/);
  assert.match(renderDevices([]), /no network devices/);
});
