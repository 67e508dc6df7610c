// The token of a desktop is in its URL: nginx's /rdp/ location must log the
// path only. Read from the shipped packaging/nginx/nginx.conf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO_DIR } from '../lab/lab.js';

const conf = readFileSync(`${REPO_DIR}/packaging/nginx/nginx.conf`, 'utf8');

test('/rdp/ is passed to jmp-rdp as a WebSocket and logged with a format that has no query', () => {
  const loc = /location \/rdp\/ \{([^}]*)\}/.exec(conf)?.[1];
  assert.ok(loc, 'a location /rdp/');
  assert.match(loc, /proxy_pass http:\/\/jmp_rdp;/);
  assert.match(loc, /proxy_set_header Upgrade \$http_upgrade;/);
  const fmt = /access_log \S+ (\w+);/.exec(loc)?.[1];
  assert.ok(fmt, '/rdp/ has its own access_log');
  const def = new RegExp(`log_format ${fmt} ([^;]*);`).exec(conf)?.[1];
  assert.ok(def, `log_format ${fmt}`);
  assert.match(def, /\$uri\b/);
  for (const v of ['$request ', '$request"', "$request'", '$request_uri', '$args', '$query_string', '$arg_'])
    assert.ok(!def.includes(v), `${fmt} logs ${v.trim()}`);
});
