import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with the n-th request (0-based): answer with a status (and body, after a delay), or hang. */
export type Behaviour = (
  request: ReceivedRequest,
  index: number,
) => { status: number; body?: string; delayMs?: number } | 'hang';

/** A real HTTP endpoint on 127.0.0.1 that records every request and answers as told. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  behaviour: Behaviour;
  readonly #server: Server;

  private constructor(server: Server, behaviour: Behaviour) {
    this.#server = server;
    this.behaviour = behaviour;
  }

  static async start(behaviour: Behaviour = () => ({ status: 200 })): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server, behaviour);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const index = receiver.requests.push(request) - 1;
        const answer = receiver.behaviour(request, index);
        if (answer === 'hang') return;
        const respond = () => {
          res.writeHead(answer.status, { 'content-type': 'text/plain' });
          res.end(answer.body ?? 'ok');
        };
        if (answer.delayMs) setTimeout(respond, answer.delayMs);
        else respond();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path = '/hooks'): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  /** Event ids (`evt_1`...) of every request received, in order. */
  eventIds(): string[] {
    return this.requests.map((r) => String(r.headers['evergreen-event-id']));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
