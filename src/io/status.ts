/** Asking one host's I/O priority listener for its status (`kiln io status`). */
import { connect } from 'node:net';
import { LineReader, encodeMessage, parseLine, type StatusMessage } from './protocol.js';
import { SECOND } from '../util/time.js';
import { UserError } from '../util/errors.js';

export type IoStatus = ({ listening: true } & Omit<StatusMessage, 'v' | 'type'>) | { listening: false; reason: string };

/**
 * The listener's status; `listening: false` when nothing answers on the port. A host name that
 * does not resolve is a mistake, not an all-clear: it rejects with a UserError.
 */
export function queryIoStatus(host: string, port: number, timeoutMs = 3 * SECOND): Promise<IoStatus> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    let answered = false;
    const finish = (status: IoStatus): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => finish({ listening: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    const reader = new LineReader((line) => {
      const message = parseLine(line);
      if (message.type !== 'status') return;
      const { v: _v, type: _type, ...rest } = message as unknown as StatusMessage;
      finish({ listening: true, ...rest });
    });
    socket.on('connect', () => {
      socket.write(encodeMessage({ type: 'hello', role: 'observer', program: 'kiln io status', pid: process.pid }));
      socket.write(encodeMessage({ type: 'status' }));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        finish({ listening: false, reason: `not an I/O priority listener (${(error as Error).message})` });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
        answered = true;
        clearTimeout(timer);
        socket.destroy();
        reject(new UserError(`--host: cannot resolve "${host}" (${error.code})`, { field: 'host' }));
        return;
      }
      finish({ listening: false, reason: error.code === 'ECONNREFUSED' ? 'nothing listens there' : error.message });
    });
    socket.on('close', () => finish({ listening: false, reason: 'the connection closed before an answer' }));
  });
}
