import type { Argv } from 'yargs';
import type { WrittenFiles } from '../certs/index.js';

/** node-forge is heavy to load: only `pipeline certs` pays for it, not every start. */
const pki = () => import('../certs/index.js');

/** `pipeline certs create-ca | create-server | create-client`: PEM files for the TLS inputs and rsyslog's gtls. */
export function certsCommands(y: Argv, setCode: (c: number) => void): Argv {
  const report = (f: WrittenFiles) => process.stdout.write(`wrote ${f.cert}\nwrote ${f.key} (mode 0600)\n`);
  const guard = async (fn: (p: Awaited<ReturnType<typeof pki>>) => void) => {
    try {
      fn(await pki());
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      setCode(1);
    }
  };
  return y
    .option('dir', { type: 'string', default: 'data/certs', describe: 'directory holding ca.pem/ca.key and the certificates' })
    .option('days', { type: 'number', describe: 'validity in days (CA 3650, others 825)' })
    .option('force', { type: 'boolean', default: false, describe: 'replace existing files' })
    .command(
      'create-ca',
      'create a certificate authority (ca.pem, ca.key)',
      (a) => a.option('cn', { type: 'string', default: 'Pipeline CA', describe: 'common name' }),
      (argv) => guard((p) => report(p.certsCreateCA(String(argv.dir), { commonName: String(argv.cn), days: argv.days as number | undefined, force: Boolean(argv.force) }))),
    )
    .command(
      'create-server',
      'create a server certificate signed by the CA (server.pem, server.key)',
      (a) =>
        a
          .option('dns', { type: 'array', string: true, describe: 'DNS names (subjectAltName), repeatable' })
          .option('ip', { type: 'array', string: true, describe: 'IP addresses (subjectAltName), repeatable' })
          .option('name', { type: 'string', default: 'server', describe: 'file name without .pem' }),
      (argv) =>
        guard((p) =>
          report(p.certsCreateServer(String(argv.dir), { dns: (argv.dns as string[] | undefined) ?? [], ip: (argv.ip as string[] | undefined) ?? [], name: String(argv.name), days: argv.days as number | undefined, force: Boolean(argv.force) })),
        ),
    )
    .command(
      'create-client <name>',
      'create a client certificate signed by the CA (NAME.pem, NAME.key), for rsyslog gtls with ssl_verify',
      (a) => a.positional('name', { type: 'string', demandOption: true }),
      (argv) => guard((p) => report(p.certsCreateClient(String(argv.dir), String(argv.name), { days: argv.days as number | undefined, force: Boolean(argv.force) }))),
    )
    .demandCommand(1, 'name a subcommand: create-ca, create-server or create-client');
}
