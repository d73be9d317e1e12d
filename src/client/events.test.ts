import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from './api-client.js';
import { EventStreamParser, readServerEvents, type ServerEvent } from './events.js';
import { startTinyServer } from './testing.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(iterable: AsyncIterable<ServerEvent>): Promise<ServerEvent[]> {
  const out: ServerEvent[] = [];
  for await (const event of iterable) out.push(event);
  return out;
}

describe('EventStreamParser', () => {
  it('joins data lines, skips comments and defaults the event name', () => {
    const parser = new EventStreamParser();
    const lines = [': keep-alive', 'event: log', 'data: first', 'data:second', 'id: 42', ''];
    const events = lines.map((line) => parser.line(line)).filter(Boolean);
    assert.deepEqual(events, [{ event: 'log', data: 'first\nsecond', id: '42' }]);
    assert.equal(parser.line('data: {"a":1}'), undefined);
    assert.deepEqual(parser.line(''), { event: 'message', data: { a: 1 }, id: '42' });
    assert.equal(parser.line(''), undefined, 'a blank line with no data dispatches nothing');
  });
});

describe('readServerEvents', () => {
  it('reads events split anywhere across chunks, with CRLF and CR line ends', async () => {
    const text =
      'event: job\r\ndata: {"id":"j1","status":"active"}\r\n\r\nevent: task\rdata: {"id":"t1"}\r\revent: worker\ndata: {"id":"w1"}\n\nevent: log\ndata: unfinished';
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 7) chunks.push(text.slice(i, i + 7));
    const events = await collect(readServerEvents(streamOf(chunks)));
    assert.deepEqual(events, [
      { event: 'job', data: { id: 'j1', status: 'active' } },
      { event: 'task', data: { id: 't1' } },
      { event: 'worker', data: { id: 'w1' } },
    ]);
  });

  it('streams from the manager with the job filter and stops on abort', async (t) => {
    const server = await startTinyServer(t, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write(': hello\n\n');
      response.write('event: task\ndata: {"id":"t1","progress":0.5}\n\n');
      // Left open, as a live stream is.
    });
    const client = new ApiClient({ baseUrl: server.url, apiToken: 'tok' });
    const controller = new AbortController();
    const seen: ServerEvent[] = [];
    for await (const event of client.events({ job: 'job-1', signal: controller.signal })) {
      seen.push(event);
      controller.abort();
    }
    assert.deepEqual(seen, [{ event: 'task', data: { id: 't1', progress: 0.5 } }]);
    assert.equal(server.requests[0]?.path, '/api/v1/events');
    assert.equal(server.requests[0]?.query.get('job'), 'job-1');
    assert.equal(server.requests[0]?.headers.accept, 'text/event-stream');
  });
});
