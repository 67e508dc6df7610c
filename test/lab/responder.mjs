// A scripted stand-in for jmp-agent, run as a lab host's agent command until the
// real agent exists (and for tests of the lab itself). Plain JavaScript: it
// starts in ~0.3 s here, ~1 s through tsx. It speaks the
// server side of the v1 line protocol (docs/agent-protocol.md) with its own
// tiny codec, so the lab does not depend on agent/ code.
//
//   node test/lab/responder.mjs --socket /run/jmp/agent.sock \
//        --rules /var/lib/jmp/responder.json [--log /run/jmp/responder.log]
//
// The rules file is read again for every request, so a test changes the
// answers by rewriting it. Every exchange is appended to the log as a JSON
// line {op, fields, status, reason} (the ticket is replaced by its length).
import { appendFileSync, chmodSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';

/**
 * What the responder allows; anything not listed is denied.
 * @typedef {object} ResponderRules
 * @property {Record<string, string>} [tickets]  auth: ticket -> the user it is valid for
 * @property {Record<string, boolean>} [sudo]    sudo: user -> may become root (any runas)
 * @property {Record<string, boolean>} [su]      su: user -> may su
 * @property {Record<string, boolean>} [account] account: user -> false refuses (default allowed)
 */
/**
 * @typedef {{op: string, fields: Record<string, string>, status: 'allow'|'deny'|'error'|'pong', reason?: string}} LogEntry
 */

const MAX_LINE = 8192;
const KEY = /^[a-z0-9_]{1,32}$/;
const VALUE = /^(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})*$/;
const OPS = new Set(['auth', 'account', 'sudo', 'su', 'session_open', 'session_close', 'ping']);

/** @param {string} v */
export function encodeValue(v) {
  let out = '';
  for (const b of Buffer.from(v, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** @param {string} line @returns {{op: string, fields: Record<string, string>}} */
export function parseRequest(line) {
  const words = line.split(' ');
  if (words[0] !== 'v1' || words.length < 2) throw new Error('bad_request');
  const op = words[1];
  if (!OPS.has(op)) throw new Error('unknown_op');
  /** @type {Record<string, string>} */
  const fields = {};
  for (const w of words.slice(2)) {
    const eq = w.indexOf('=');
    const k = w.slice(0, eq);
    const v = w.slice(eq + 1);
    if (eq < 1 || !KEY.test(k) || !VALUE.test(v) || k in fields) throw new Error('bad_request');
    const d = Buffer.from(decodeURIComponent(v.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')), 'utf8').toString();
    if (d.includes('\0')) throw new Error('bad_request');
    fields[k] = d;
  }
  return { op, fields };
}

/**
 * @param {ResponderRules} rules @param {string} host @param {string} op
 * @param {Record<string, string>} f @returns {LogEntry}
 */
export function decide(rules, host, op, f) {
  const user = f.user ?? '';
  /** @param {string} [reason] @returns {LogEntry} */
  const allow = (reason) => ({ op, fields: f, status: 'allow', ...(reason ? { reason } : {}) });
  /** @param {string} reason @returns {LogEntry} */
  const deny = (reason) => ({ op, fields: f, status: 'deny', reason });
  switch (op) {
    case 'ping':
      return { op, fields: f, status: 'pong' };
    case 'auth': {
      const ticket = f.ticket ?? '';
      if (ticket && rules.tickets?.[ticket] === user) return allow(`ticket accepted for ${user}`);
      return deny(`ticket rejected for ${user} on ${host}`);
    }
    case 'account':
      return rules.account?.[user] === false ? deny(`no login right for ${user} on ${host}`) : allow();
    case 'sudo':
      return rules.sudo?.[user] ? allow() : deny(`no root right for ${user} on ${host}`);
    case 'su':
      return rules.su?.[user] ? allow() : deny(`no su right for ${user} on ${host}`);
    default: // session_open / session_close
      return allow();
  }
}

/** @param {LogEntry} e */
function responseLine(e) {
  let line = `v1 ${e.status}`;
  if (e.status === 'pong') line += ' version=lab-responder';
  if (e.reason) line += ` reason=${encodeValue(e.reason)}`;
  return `${line} mode=online\n`;
}

/** @param {string} path @returns {ResponderRules} */
function readRules(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

function main() {
  const args = new Map();
  const argv = process.argv.slice(2);
  for (let i = 0; i + 1 < argv.length; i += 2) args.set(argv[i].replace(/^--/, ''), argv[i + 1]);
  const socketPath = args.get('socket') ?? '/run/jmp/agent.sock';
  const rulesPath = args.get('rules') ?? '/var/lib/jmp/responder.json';
  const logPath = args.get('log');
  const host = process.env.JMP_LAB_HOST ?? hostname();

  const server = createServer((socket) => {
    let buf = '';
    let done = false;
    socket.setEncoding('latin1');
    socket.on('error', () => socket.destroy());
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk) => {
      if (done) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length >= MAX_LINE) {
          done = true;
          socket.end('v1 error code=too_long reason=request%20line%20too%20long\n');
        }
        return;
      }
      done = true;
      let entry;
      try {
        const { op, fields } = parseRequest(buf.slice(0, nl));
        entry = decide(readRules(rulesPath), host, op, fields);
      } catch (err) {
        const code = err.message === 'unknown_op' ? 'unknown_op' : 'bad_request';
        socket.end(`v1 error code=${code} reason=${code}\n`);
        return;
      }
      socket.end(responseLine(entry));
      if (logPath) {
        const fields = { ...entry.fields };
        if (fields.ticket !== undefined) fields.ticket = `<${fields.ticket.length} bytes>`;
        appendFileSync(logPath, JSON.stringify({ ...entry, fields }) + '\n');
      }
    });
  });
  rmSync(socketPath, { force: true });
  server.listen(socketPath, () => {
    chmodSync(socketPath, 0o666);
    process.stdout.write(`responder: ${host} listening on ${socketPath}\n`);
  });
  const stop = () => {
    server.close();
    rmSync(socketPath, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
