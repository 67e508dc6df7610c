// A client of the agent's socket for the CLI (status, doctor, ticket) and
// tests: one request line, one response line, a hard deadline.
import { connect } from 'node:net';
import {
  MAX_LINE_BYTES,
  decodeResponse,
  encodeRequest,
  readLine,
  type DecodedResponse,
  type Request,
} from '../protocol/line.js';

export class AgentUnreachableError extends Error {
  constructor(socketPath: string, detail: string) {
    super(`the agent at ${socketPath} cannot be reached: ${detail}`);
    this.name = 'AgentUnreachableError';
  }
}

/** Sends a raw line (tests send malformed ones) and returns the raw answer line without its newline. */
export function exchangeLine(socketPath: string, line: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, v?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(v!);
    };
    const timer = setTimeout(
      () => done(new AgentUnreachableError(socketPath, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    s.on('connect', () => s.write(line));
    s.on('data', (chunk: Buffer) => {
      const r = readLine(buffered, chunk);
      if (r.kind === 'need_more') buffered = r.buffered;
      else if (r.kind === 'too_long')
        done(new AgentUnreachableError(socketPath, `answer longer than ${MAX_LINE_BYTES} bytes`));
      else done(null, r.line.toString('latin1'));
    });
    s.on('end', () => done(new AgentUnreachableError(socketPath, 'the agent closed the connection without an answer')));
    s.on('error', (err) => done(new AgentUnreachableError(socketPath, err.message)));
  });
}

export async function askAgent(socketPath: string, req: Request, timeoutMs = 3000): Promise<DecodedResponse> {
  const line = await exchangeLine(socketPath, encodeRequest(req), timeoutMs);
  try {
    return decodeResponse(line);
  } catch (err) {
    throw new AgentUnreachableError(socketPath, `unreadable answer: ${(err as Error).message}`);
  }
}
