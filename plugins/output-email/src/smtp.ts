import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { DeliveryOutcome } from '@pipeline/core';

export interface SmtpOptions {
  host: string;
  port: number;
  /** Implicit TLS (SMTPS). */
  implicitTls: boolean;
  /** auto: STARTTLS when the server offers it; required: refuse to send without it; never: plain. */
  starttls: 'auto' | 'required' | 'never';
  username?: string;
  password?: string;
  /** PLAIN, LOGIN, CRAM-MD5...; unset: the first the server offers. */
  authMethod?: string;
  /** HELO/EHLO name. */
  domain?: string;
  caFiles?: string[];
  verifyTls: boolean;
  timeoutMs: number;
}

/** One nodemailer SMTP transport (a connection per mail: mail is rare, and a stale pooled connection is a failure mode of its own). */
export function createSmtpTransport(o: SmtpOptions, resolvePath: (p: string) => string): Transporter<SMTPTransport.SentMessageInfo> {
  const options: SMTPTransport.Options = {
    host: o.host,
    port: o.port,
    secure: o.implicitTls,
    requireTLS: o.starttls === 'required',
    ignoreTLS: o.starttls === 'never',
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    tls: {
      rejectUnauthorized: o.verifyTls,
      ...(o.caFiles?.length ? { ca: o.caFiles.map((f) => readFileSync(resolvePath(f))) } : {}),
      ...(isIP(o.host) ? {} : { servername: o.host }),
    },
  };
  if (o.domain) options.name = o.domain;
  if (o.username) {
    options.auth = { user: o.username, pass: o.password ?? '' };
    if (o.authMethod) options.authMethod = o.authMethod.toUpperCase();
  }
  return nodemailer.createTransport(options);
}

interface SmtpError {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * What an SMTP failure means for the spool: 5xx answers (including a refused login, 535) are
 * permanent and dead-lettered; 421 (service closing) is the server being unavailable; other 4xx
 * (greylisting, mailbox busy) are transient and retried a bounded number of times; no answer at
 * all (refused, reset, timeout, TLS failure) is an outage, retried until the spool's caps.
 */
export function classifySmtpError(err: unknown): DeliveryOutcome {
  const e = (err ?? {}) as SmtpError;
  const message = (e.response ?? e.message ?? String(err)).slice(0, 500);
  const code = e.responseCode;
  if (typeof code === 'number' && code >= 500) return { kind: 'reject', status: String(code), message };
  if (typeof code === 'number' && code >= 400) return { kind: 'retry', unavailable: code === 421, status: String(code), message };
  return { kind: 'retry', unavailable: true, status: e.code ?? 'error', message };
}
