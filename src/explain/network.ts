/**
 * explain() rows for Node network and file codes, TLS failures and the db library's own codes
 * (DB_*): the connection, before any SQL runs.
 */
import { str, where, cap } from './db-facts.js';
import type { ExplainEntry, ExplainTable } from './types.js';

const TLS_SELF_SIGNED: ExplainEntry = (f) => ({
  title: "The server's TLS certificate is not trusted",
  cause: `${cap(where(f))} presented a certificate that does not chain to a trusted authority (${f.code}): a self-signed or private-CA certificate, common on managed databases.`,
  hint:
    "Download the provider's CA certificate and set PGSSLROOTCERT=/path/to/ca.pem (or sslrootcert=/path in DATABASE_URL) with PGSSLMODE=verify-full. " +
    'Only on a network you trust: PGSSLMODE=require encrypts without checking the certificate.',
});

const SERVER_NO_SSL: ExplainEntry = (f) => ({
  title: 'The server does not support TLS (SSL)',
  cause: `${cap(where(f))} answered that it has no SSL, but the connection asks for TLS (sslmode ${str(f.details.sslMode) ?? 'require or stricter'}).`,
  hint: 'If the server is on this machine or a trusted network, set PGSSLMODE=disable (or ?sslmode=disable in DATABASE_URL); use prefer to take TLS when offered. Otherwise enable ssl=on on the server.',
});

export const networkTable: ExplainTable = {
  // ---- Network (Node codes) ------------------------------------------------------------------
  ECONNREFUSED: (f) => ({
    title: 'Connection refused',
    cause: `Nothing is listening at ${where(f)}: PostgreSQL is not running there, listens on another port, or listen_addresses excludes this address.`,
    hint: 'Start PostgreSQL (or `chatgenius-db local start`), or fix POSTGRES_HOST / POSTGRES_PORT (DATABASE_URL). Behind a bastion, set SSH_HOST so the tunnel is used. Retried automatically.',
  }),
  ENOTFOUND: (f) => ({
    title: 'Host not found',
    cause: `The name ${str(f.details.hostname) ?? str(f.details.host) ?? ''} does not resolve in DNS.`.replace('name  does', 'host name does'),
    hint: 'Check the spelling of POSTGRES_HOST (or the host in DATABASE_URL), your VPN, or use an IP address. A private host behind a bastion needs SSH_HOST.',
  }),
  EAI_AGAIN: (f) => ({
    title: 'DNS lookup failed for now',
    cause: `The name ${str(f.details.hostname) ?? str(f.details.host) ?? 'of the host'} could not be resolved at the moment (temporary DNS failure).`,
    hint: 'Retried automatically. Check your network or VPN connection.',
  }),
  ETIMEDOUT: (f) => ({
    title: 'Connection timed out',
    cause: `${cap(where(f))} did not answer in time: a firewall may drop the packets, or the host is down or unreachable from here.`,
    hint: 'Check POSTGRES_HOST / POSTGRES_PORT, security groups / firewall rules for your address, and whether the database is only reachable through a bastion (SSH_HOST). Retried automatically.',
  }),
  ECONNRESET: (f) => ({
    title: 'Connection reset',
    cause: `${cap(where(f))} or something between (a proxy, a tunnel, a firewall) closed the connection abruptly.`,
    hint: 'Retried automatically. If it repeats: TLS mismatch (try PGSSLMODE=require or disable), a pooler limit, or an unstable tunnel.',
  }),
  EPIPE: (f) => ({
    title: 'Connection broken',
    cause: `The connection to ${where(f)} closed while we were writing to it.`,
    hint: 'Retried automatically when connecting. Run the command again; each migration commits on its own.',
  }),
  EHOSTUNREACH: (f) => ({
    title: 'Host unreachable',
    cause: `There is no network route to ${where(f)} from this machine.`,
    hint: 'Check your network or VPN, and POSTGRES_HOST. A private address behind a bastion needs SSH_HOST (the tunnel).',
  }),
  ENETUNREACH: (f) => ({
    title: 'Network unreachable',
    cause: `This machine has no route to the network of ${where(f)} (an IPv6 address without IPv6, or no connection).`,
    hint: 'Check your network or VPN; use an IPv4 address or host name in POSTGRES_HOST.',
  }),
  ENOENT: (f) => ({
    title: 'File not found',
    cause: `There is no file at ${str(f.details.path) ?? 'the given path'}.`,
    hint: str(f.details.variable)
      ? `Fix ${str(f.details.variable)} to point at an existing file.`
      : 'Check the path (migrations: --migrations-dir; TLS root certificate: PGSSLROOTCERT; SSH key: SSH_KEY_PATH).',
  }),
  EACCES: (f) => ({
    title: 'Permission denied',
    cause: `This user may not ${str(f.details.syscall) ?? 'open'} ${str(f.details.path) ?? 'the file or port'}.`,
    hint: "Fix the file's owner or mode (`ls -l`, `chmod`), or choose a path you own.",
  }),

  // ---- TLS -------------------------------------------------------------------------------------
  DB_SSL_NOT_SUPPORTED: SERVER_NO_SSL,
  DEPTH_ZERO_SELF_SIGNED_CERT: TLS_SELF_SIGNED,
  SELF_SIGNED_CERT_IN_CHAIN: TLS_SELF_SIGNED,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TLS_SELF_SIGNED,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TLS_SELF_SIGNED,
  ERR_TLS_CERT_ALTNAME_INVALID: (f) => ({
    title: "The server's certificate is for another host name",
    cause: `The certificate presented by ${where(f)} does not name the host we connected to (${f.message}).`,
    hint: 'Connect by the name in the certificate (POSTGRES_HOST), or use PGSSLMODE=verify-ca to check the chain but not the name. Through a tunnel the name is checked against the configured host.',
  }),
  CERT_HAS_EXPIRED: (f) => ({
    title: "The server's certificate has expired",
    cause: `${cap(where(f))} presented an expired TLS certificate.`,
    hint: "The server's admin must renew it. Check this machine's clock too.",
  }),
  DB_SSL_ROOT_CERT_UNREADABLE: (f) => ({
    title: 'TLS root certificate cannot be read',
    cause: `${str(f.details.path) ?? 'The file'} could not be read (${str(f.details.reason) ?? 'error'}).`,
    hint: 'Set PGSSLROOTCERT (or sslrootcert= in DATABASE_URL) to the CA certificate file (PEM) of your database provider.',
  }),

  // ---- The db library's own codes ----------------------------------------------------------------
  DB_CONNECTION_LOST: (f) =>
    typeof f.details.migration === 'string'
      ? {
          title: 'Connection lost during a migration',
          cause: `The connection ended while ${f.details.migration} ran (server restart, network drop, a killed session). The server rolls back a transaction it could not finish, so nothing of ${f.details.migration} is applied; the migrations printed before it committed.`,
          hint: 'The database is at a migration boundary: run the same command again to finish (it skips what committed).',
        }
      : {
          title: 'Connection lost',
          cause: `The connection to ${where(f)} ended unexpectedly (server restart, idle timeout, network or tunnel drop, or a TLS/protocol mismatch).`,
          hint: 'Retried automatically when connecting. Run the command again; each migration commits on its own. If it happens at once every time, check PGSSLMODE.',
        },
  DB_CONNECT_TIMEOUT: (f) => ({
    title: 'Connecting took too long',
    cause: `No answer from ${where(f)} within the connect timeout.`,
    hint: 'Check the host and port (POSTGRES_HOST/POSTGRES_PORT), firewalls, and whether a bastion (SSH_HOST) is needed. Retried automatically.',
  }),
  DB_NO_PASSWORD: (f) => {
    const file = str(f.details.pgpassFile) ?? '~/.pgpass';
    const problem = str(f.details.pgpassProblem);
    const user = str(f.details.user) ?? 'USER';
    const line =
      str(f.details.pgpassLine) ?? `${str(f.details.host) ?? 'HOST'}:${str(f.details.port) ?? '5432'}:${str(f.details.database) ?? 'DATABASE'}:${user}:PASSWORD`;
    return {
      title: 'The server wants a password, and none is set',
      cause:
        `${cap(where(f))} asks for the password of user "${user}". None was found: not POSTGRES_PASSWORD or PGPASSWORD (environment or .env files), not in DATABASE_URL, ` +
        (problem ? `and the password file ${file} was not used: ${problem}.` : `and no line of the password file ${file} matches.`),
      hint:
        `Give it one of three ways: POSTGRES_PASSWORD=... in .env.<env>.local (not committed) or the environment; ` +
        `DATABASE_URL with the password after "${user}:" before the @ (special characters percent-encoded); ` +
        `or the line \`${line}\` in ${file} (chmod 600; PGPASSFILE names another file), as psql uses.`,
    };
  },
  DB_CONNECT_FAILED: (f) => ({
    title: 'Could not connect to PostgreSQL',
    cause: `${cap(where(f))}: ${f.message}`,
    hint: 'Run `chatgenius-db doctor` to check each link (host, port, TLS, authentication).',
  }),
  DB_BAD_SCHEMA_NAME: (f) => ({
    title: 'Bad schema name',
    cause: f.message,
    hint: 'Use a lower-case name of letters, digits and underscores that starts with a letter (e.g. test, app_ci) in --schema.',
  }),
  DB_SETUP_FAILED: (f) => ({
    title: 'Setting up the database failed',
    cause: `${f.message} (schema ${str(f.details.schema) ?? '?'}).`,
    hint: 'Run `chatgenius-db status` to see which migration failed, then `chatgenius-db init --verbose`.',
  }),
  UNKNOWN: (f) => {
    if (/server does not support SSL/i.test(f.message)) return SERVER_NO_SSL(f);
    if (/self[- ]signed certificate/i.test(f.message)) return TLS_SELF_SIGNED(f);
    return {
      title: 'Something went wrong',
      cause: f.message,
      hint: 'Run again with --verbose to see the full error, or `chatgenius-db doctor` to check each link of the connection.',
    };
  },
};
