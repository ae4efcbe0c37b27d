import { Redis, type RedisOptions } from 'ioredis';

export interface ConnectionSettings {
  host: string;
  port: number;
  path?: string;
  db: number;
  password?: string;
  ssl: boolean;
  timeout: number;
}

/**
 * A connection for reading. ioredis reconnects by itself (every 250 ms growing to 2 s), and
 * commands issued meanwhile wait in its offline queue instead of failing, so a reader loop simply
 * blocks through an outage and goes on where it was.
 */
export function openConnection(s: ConnectionSettings, name: string): Redis {
  const options: RedisOptions = {
    host: s.host,
    port: s.port,
    path: s.path,
    db: s.db,
    password: s.password,
    tls: s.ssl ? {} : undefined,
    connectTimeout: s.timeout * 1000,
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(250 * times, 2000),
  };
  const c = new Redis(options);
  c.on('error', () => {}); // failures surface through commands; reconnection is automatic
  return c;
}

/** Ends a connection after the command in flight has returned (a popped list item is not lost). */
export async function closeGracefully(c: Redis): Promise<void> {
  try {
    await c.quit();
  } catch {
    c.disconnect();
  }
}
