import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** The certs module of core, loaded at run time (tests only; plugins never import core internals). */
interface KeyPairPem {
  cert: string;
  key: string;
}
interface Certs {
  createCA(o?: { commonName?: string }): KeyPairPem;
  createServerCert(ca: KeyPairPem, o: { commonName: string; dns?: string[]; ip?: string[] }): KeyPairPem;
}
export async function makeCerts(): Promise<{ ca: KeyPairPem; server: KeyPairPem }> {
  const certs = (await import(new URL('../../../../core/dist/src/certs/index.js', import.meta.url).href)) as Certs;
  const ca = certs.createCA({ commonName: 'email test CA' });
  const server = certs.createServerCert(ca, { commonName: 'localhost', ip: ['127.0.0.1'] });
  return { ca, server };
}

export interface Received {
  envelope: { from: string; to: string[] };
  secure: boolean;
  user: string | undefined;
  raw: string;
  mail: ParsedMail;
}

export interface PeerOptions {
  tls: KeyPairPem;
  users?: Record<string, string>;
  /** An envelope recipient answered with this SMTP code (e.g. 550) instead of accepted. */
  refuse?: Record<string, number>;
  port?: number;
}

/**
 * A real SMTP server in process (smtp-server): STARTTLS with the given certificate, AUTH PLAIN and
 * LOGIN against `users` (required when given), every accepted message kept and parsed with mailparser.
 */
export class SmtpPeer {
  readonly received: Received[] = [];
  port = 0;
  private server: SMTPServer | undefined;
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  constructor(private readonly o: PeerOptions) {}

  static async start(o: PeerOptions): Promise<SmtpPeer> {
    const p = new SmtpPeer(o);
    await p.listen(o.port ?? 0);
    return p;
  }

  async listen(port: number): Promise<void> {
    const users = this.o.users;
    const options: SMTPServerOptions = {
      key: this.o.tls.key,
      cert: this.o.tls.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: users === undefined,
      allowInsecureAuth: false,
      logger: false,
      disableReverseLookup: true,
      onAuth(auth, _session, cb) {
        if (users && users[auth.username ?? ''] === auth.password) cb(null, { user: auth.username });
        else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo: (address, _session, cb) => {
        const code = this.o.refuse?.[address.address];
        if (code) cb(Object.assign(new Error(`refused ${address.address}`), { responseCode: code }));
        else cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw).then(
            (mail) => {
              this.received.push({
                envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
                secure: session.secure,
                user: session.user as string | undefined,
                raw,
                mail,
              });
              for (const w of this.waiters.splice(0)) if (this.received.length >= w.n) w.resolve();
              else this.waiters.push(w);
              cb();
            },
            (err: Error) => cb(err),
          );
        });
      },
    };
    const server = new SMTPServer(options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    this.server = server;
    this.port = (server.server.address() as { port: number }).port;
  }

  /** Stops accepting connections (an outage); `listen(this.port)` brings it back on the same port. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Resolves once `n` messages have arrived. */
  waitFor(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}
