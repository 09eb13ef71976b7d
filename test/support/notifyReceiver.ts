/**
 * A local HTTP endpoint standing in for NOTIFY_URL (a ntfy server, a webhook): it records
 * every POST and answers with the status the test chooses, request by request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** The status it was answered with. */
  status: number;
}

export class NotifyReceiver {
  readonly received: Received[] = [];
  /** Statuses for the next requests, in order; once used up every request gets `otherwise`. */
  readonly answers: number[] = [];
  otherwise = 200;
  /** When set, every answer's body never ends (a hostile or broken endpoint): chunks until the client goes. */
  endlessBody = false;
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<NotifyReceiver> {
    const server = http.createServer();
    const r = new NotifyReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // kept as text: the test sees what was sent
        }
        const status = r.answers.shift() ?? r.otherwise;
        r.received.push({ path: req.url ?? '', headers: req.headers, body, status });
        if (!r.endlessBody) return void res.writeHead(status).end();
        res.writeHead(status);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pour = setInterval(() => res.write(chunk), 5);
        res.on('close', () => clearInterval(pour));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return r;
  }

  /** The URL to set as NOTIFY_URL (with a secret-looking topic, which must never reach a log). */
  url(topic = 'topic-SECRET-xyz'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${topic}`;
  }

  /** The bodies answered 2xx. */
  delivered(): any[] {
    return this.received.filter((r) => r.status < 300).map((r) => r.body);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
