/**
 * What answers on a host's port, asked the way each Kiln service answers: a manager through
 * `GET /api/v1/version`, a database through PostgreSQL's own protocol. Each probe gives up after
 * `timeoutMs` and never throws: an answer that is not the service is `undefined`.
 */
import { connect, type Socket } from 'node:net';

export interface ManagerAnswer {
  version: string;
  hostUuid?: string;
  hostName?: string;
}

/** A Kiln manager at host:port, or undefined. */
export async function probeManager(host: string, port: number, timeoutMs: number): Promise<ManagerAnswer | undefined> {
  try {
    const response = await fetch(`http://${urlHost(host)}:${port}/api/v1/version`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as Record<string, unknown>;
    if (body.name !== 'kiln' || typeof body.version !== 'string') return undefined;
    return {
      version: body.version,
      ...(typeof body.hostUuid === 'string' ? { hostUuid: body.hostUuid } : {}),
      ...(typeof body.hostName === 'string' ? { hostName: body.hostName } : {}),
    };
  } catch {
    return undefined;
  }
}

export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export interface DatabaseAnswer {
  /** `cert` when the server offers TLS (Kiln turns TLS on only in cert mode), else `trust`. */
  auth: 'trust' | 'cert';
  /** True when the server let the `kiln` role into the `kiln` database (a trust-mode Kiln cluster). */
  kilnRole: boolean;
  /** server_version, when the server let us in far enough to say it. */
  serverVersion?: string;
}

/** PostgreSQL's SSLRequest code (protocol section "SSLRequest"). */
const SSL_REQUEST_CODE = 80877103;
const PROTOCOL_3_0 = 196608;

/**
 * A PostgreSQL server at host:port, or undefined. An SSLRequest is answered with one byte, `S`
 * or `N`, by PostgreSQL and by nothing else Kiln meets; after `N` a startup as `kiln` tells a
 * trust-mode Kiln cluster (it lets the role in) from another server.
 */
export async function probePostgres(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<DatabaseAnswer | undefined> {
  const socket = connect({ host, port });
  socket.setTimeout(timeoutMs);
  const reader = new MessageReader(socket, timeoutMs);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      socket.once('connect', resolvePromise);
      socket.once('error', reject);
      socket.once('timeout', () => reject(new Error('timeout')));
    });
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(SSL_REQUEST_CODE, 4);
    socket.write(request);
    const answer = (await reader.read(1)).toString('latin1');
    if (answer === 'S') return { auth: 'cert', kilnRole: false };
    if (answer !== 'N') return undefined;
    socket.write(startupMessage({ user: 'kiln', database: 'kiln', application_name: 'kiln-services-snapshot' }));
    return await readStartupAnswer(reader);
  } catch {
    return undefined;
  } finally {
    socket.destroy();
  }
}

function startupMessage(parameters: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(parameters).flatMap(([key, value]) => [Buffer.from(`${key}\0${value}\0`)]),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, body]);
}

/** Reads messages until ReadyForQuery (let in) or an error/auth request (a server, not for us). */
async function readStartupAnswer(reader: MessageReader): Promise<DatabaseAnswer | undefined> {
  let serverVersion: string | undefined;
  for (let messages = 0; messages < 64; messages++) {
    const head = await reader.read(5);
    const type = String.fromCharCode(head[0] ?? 0);
    const length = head.readInt32BE(1);
    if (length < 4 || length > 65536) return undefined;
    const body = await reader.read(length - 4);
    if (type === 'E') return { auth: 'trust', kilnRole: false };
    if (type === 'R' && body.readInt32BE(0) !== 0) return { auth: 'trust', kilnRole: false };
    if (type === 'S') {
      const [key, value] = body.toString('utf8').split('\0');
      if (key === 'server_version' && value !== undefined) serverVersion = value;
    }
    if (type === 'Z') {
      reader.terminate();
      return { auth: 'trust', kilnRole: true, ...(serverVersion ? { serverVersion } : {}) };
    }
    if (!'RSKNZ'.includes(type)) return undefined;
  }
  return undefined;
}

/** Exact-length reads from a socket, failing on close or after the deadline. */
class MessageReader {
  #buffered = Buffer.alloc(0);
  #waiting: (() => void) | undefined;
  #ended = false;
  readonly #deadline: number;
  readonly #socket: Socket;

  constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#deadline = Date.now() + timeoutMs;
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      this.#waiting?.();
    });
    const end = (): void => {
      this.#ended = true;
      this.#waiting?.();
    };
    socket.on('close', end);
    socket.on('error', end);
    socket.on('timeout', end);
  }

  /** Says goodbye (Terminate), so the server does not log an unexpected end of the connection. */
  terminate(): void {
    this.#socket.end(Buffer.from([0x58, 0, 0, 0, 4]));
  }

  async read(length: number): Promise<Buffer> {
    while (this.#buffered.length < length) {
      if (this.#ended || Date.now() > this.#deadline) throw new Error('no complete answer');
      await new Promise<void>((resolvePromise) => {
        const timer = setTimeout(resolvePromise, Math.max(0, this.#deadline - Date.now()) + 1);
        this.#waiting = () => {
          clearTimeout(timer);
          resolvePromise();
        };
      });
      this.#waiting = undefined;
    }
    const out = this.#buffered.subarray(0, length);
    this.#buffered = this.#buffered.subarray(length);
    return out;
  }
}
