import { definePlugin, opt } from '@pipeline/core';
import { EmailOutput } from './output.js';

export { EmailOutput } from './output.js';

export default definePlugin({
  kind: 'output',
  name: 'email',
  description: 'Sends an e-mail per event through an SMTP relay (nodemailer), spooled on disk while the relay is down.',
  options: {
    address: opt.string({ default: 'localhost', description: 'SMTP relay host.' }),
    port: opt.number({ default: 25, description: 'SMTP relay port.' }),
    use_tls: opt.bool({ default: false, description: 'Implicit TLS from the first byte (SMTPS, usually port 465).' }),
    username: opt.string({ description: 'SMTP AUTH user; empty or unset: no authentication.' }),
    password: opt.password({ description: 'SMTP AUTH password; never logged.' }),
    from: opt.string({ default: 'pipeline@localhost', description: 'From address (sprintf).' }),
    to: opt.string({ required: true, description: 'Recipients, comma separated (sprintf).' }),
    subject: opt.string({ default: '', description: 'Subject (sprintf).' }),
    body: opt.string({ default: '', description: 'Plain text body (sprintf).' }),
    spool_path: opt.path({ description: 'Spool database; default `<path.data>/spool/email-<id>.sqlite`.' }),
  },
  create(o, ctx) {
    return new EmailOutput(
      {
        host: o.address,
        port: o.port,
        secure: o.use_tls,
        username: o.username,
        password: o.password,
        from: o.from,
        to: o.to,
        subject: o.subject,
        body: o.body,
        spoolPath: o.spool_path,
      },
      ctx,
    );
  },
});
