import net from 'node:net';

/**
 * A TCP pass-through in front of the test database. `cut()` makes the database vanish for the service
 * (listener closed, live connections destroyed); `restore()` brings it back on the same port.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** Every chunk a client sent towards the database, per connection, in order (see `clientBytes`). */
  private readonly sent: Buffer[][] = [];

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** What each connection's client has sent so far, one buffer per connection in the order they opened. */
  clientBytes(): Buffer[] {
    return this.sent.map((chunks) => Buffer.concat(chunks));
  }

  async start(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      const chunks: Buffer[] = [];
      this.sent.push(chunks);
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    if (typeof address === 'object' && address) this.port = address.port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  static forUri(uri: string): TcpProxy {
    const url = new URL(uri);
    return new TcpProxy(url.hostname, Number(url.port || 27017));
  }
}
