import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { UserError } from '../../util/errors.js';
import { DbConfigSchema, DB_DEFAULTS, type DbConfig } from '../../db/config.js';
import * as igniter from '../../db/igniter.js';
import { clusterStatus, type ClusterStatus } from '../../db/status.js';
import { describeRule, type AccessRule } from '../../db/access-rules.js';
import type { ConnectionLimit } from '../../db/limits.js';
import { SETTINGS } from '../../db/settings.js';

interface DbFlags {
  home?: string;
  data?: string;
  port?: string;
  auth?: string;
  clients?: string;
  listen?: string;
}

/** The db section of the configuration with flags applied, and the data directory. */
function dbSettings(flags: DbFlags): { config: DbConfig; data: string; home: string } {
  const home = resolveHome(flags.home);
  const config = loadConfig('db', DbConfigSchema, DB_DEFAULTS, {
    home,
    flags: { port: flags.port, auth: flags.auth, clients: flags.clients, listen: flags.listen, data: flags.data },
  });
  return { config, data: resolve(config.data ?? join(home, 'db')), home };
}

const dataOf = (flags: DbFlags): string => dbSettings(flags).data;

export function registerDbCommands(program: Command): void {
  const db = program
    .command('db')
    .description('the project database: a PostgreSQL server Kiln runs itself (the igniter)');
  const sub = (name: string, description: string): Command =>
    withCommonOptions(db.command(name).description(description)).option(
      '--data <dir>',
      'data directory (default: <home>/db)',
    );
  registerLifecycleCommands(sub);
  registerAnnounceCommand(db);
  registerAccessCommands(sub);
  registerSettingCommands(sub);
  registerUserCommands(db);
}

type Sub = (name: string, description: string) => Command;

function registerLifecycleCommands(sub: Sub): void {
  sub('init', 'create the database cluster and start it')
    .option('--port <port>', 'TCP port (default 7533)')
    .option('--auth <mode>', 'trust (one shared role, no TLS) or cert (TLS and a certificate per user)')
    .option('--clients <n>', 'expected client hosts; max_connections = 7 + 10 x clients (default 10)')
    .option('--listen <addrs>', 'comma-separated addresses to listen on (default *)')
    .option('--no-start', 'leave the new cluster stopped')
    .action(
      action(async (flags: DbFlags & { start: boolean }) => {
        const { config, data, home } = dbSettings(flags);
        const result = await igniter.initCluster({
          data,
          home,
          port: config.port,
          auth: config.auth,
          clients: config.clients,
          listen: config.listen,
          noStart: !flags.start,
        });
        printInitResult(result, data);
      }),
    );

  sub('start', 'start the database server').action(
    action(async (flags: DbFlags) => {
      const { data, home } = dbSettings(flags);
      const { pid, meta, notes } = await igniter.start(data, home);
      for (const note of notes) console.log(`note: ${note}`);
      console.log(`Database running on port ${meta.port} (pid ${pid}).`);
    }),
  );

  sub('stop', 'stop the database server (fast shutdown; waits until stopped)').action(
    action(async (flags: DbFlags) => {
      console.log((await igniter.stop(dataOf(flags))) ? 'Database stopped.' : 'Database was not running.');
    }),
  );

  sub('restart', 'stop then start the database server').action(
    action(async (flags: DbFlags) => {
      const { data, home } = dbSettings(flags);
      await igniter.stop(data);
      const { pid, meta, notes } = await igniter.start(data, home);
      for (const note of notes) console.log(`note: ${note}`);
      console.log(`Database restarted on port ${meta.port} (pid ${pid}).`);
    }),
  );

  sub('status', 'show whether the server runs, and how it is set up')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: DbFlags & { json?: boolean }) => {
        const status = await clusterStatus(dataOf(flags));
        if (flags.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status);
      }),
    );

  sub('destroy', 'stop the server and delete the cluster (asks to type DESTROY)')
    .option('--yes', 'do not ask for confirmation')
    .action(
      action(async (flags: DbFlags & { yes?: boolean }) => {
        const data = dataOf(flags);
        igniter.openCluster(data); // fail on a missing cluster before asking anything
        if (!flags.yes) await confirmDestroy(data);
        await igniter.destroy(data);
        console.log(`Database cluster in ${data} destroyed.`);
      }),
    );
}

/** Hidden: the announcer the igniter starts beside the server (src/db/announcer.ts). */
function registerAnnounceCommand(db: Command): void {
  withCommonOptions(db.command('announce', { hidden: true }))
    .description('announce the running database on the network until it stops (started by the igniter)')
    .option('--data <dir>', 'data directory (default: <home>/db)')
    .action(
      action(async (flags: DbFlags) => {
        const { data, home } = dbSettings(flags);
        const { default: pino } = await import('pino');
        const { runAnnouncer } = await import('../../db/announce-run.js');
        const log = pino({ name: 'kiln-db-announcer' }, pino.destination(1));
        await runAnnouncer({ data, home, log });
        log.flush();
      }),
    );
}

function registerAccessCommands(sub: Sub): void {
  sub('allow', 'allow connections from a network (applies at once)')
    .argument('<cidr>', 'address or network, e.g. 192.168.1.0/24')
    .option('--user <role>', 'only this role (default all)')
    .option('--database <name>', 'only this database (default all)')
    .option('--force', 'replace a pg_hba.conf edited by hand (a copy of it is kept beside it)')
    .action(
      action(async (cidr: string, flags: DbFlags & { user?: string; database?: string; force?: boolean }) => {
        printRulesChange(await igniter.allow(dataOf(flags), cidr, flags));
      }),
    );

  sub('deny', 'refuse connections from a network (applies at once)')
    .argument('<cidr>', 'address or network')
    .option('--force', 'replace a pg_hba.conf edited by hand (a copy of it is kept beside it)')
    .action(
      action(async (cidr: string, flags: DbFlags & { force?: boolean }) => {
        printRulesChange(await igniter.deny(dataOf(flags), cidr, flags));
      }),
    );

  sub('rules', 'list the host-based access rules')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: DbFlags & { json?: boolean }) => {
        const { meta } = igniter.openCluster(dataOf(flags));
        if (flags.json) console.log(JSON.stringify(meta.rules, null, 2));
        else printRules(meta.rules);
      }),
    );
}

function registerSettingCommands(sub: Sub): void {
  sub('set', `change a setting: ${SETTINGS.join(', ')} (restarts a running server)`)
    .argument('<name>', 'clients (expected client hosts) or max_connections (a number, or auto for 7 + 10 x clients)')
    .argument('<value>', 'the new value')
    .action(
      action(async (name: string, value: string, flags: DbFlags) => {
        printSetResult(await igniter.setSetting(dataOf(flags), name, value));
      }),
    );

  sub('set-clients', 'change the expected number of client hosts (same as `set clients N`)')
    .argument('<n>', 'client hosts')
    .action(
      action(async (n: string, flags: DbFlags) => {
        printSetResult(await igniter.setSetting(dataOf(flags), 'clients', n));
      }),
    );

  sub('migrate', 'apply pending schema migrations')
    .option('--database-url <url>', 'a PostgreSQL URL instead of the local cluster')
    .action(
      action(async (flags: DbFlags & { databaseUrl?: string }) => {
        const { createKysely, createPool, localDatabaseTarget, migrateToLatest, urlDatabaseTarget } = await import(
          '../../db/database.js'
        );
        const target = flags.databaseUrl
          ? urlDatabaseTarget(flags.databaseUrl, 2)
          : localDatabaseTarget(dataOf(flags), 2);
        const db = createKysely(createPool(target));
        try {
          const { applied, version } = await migrateToLatest(db);
          console.log(
            applied.length
              ? `Applied ${applied.join(', ')}; schema version ${version}.`
              : `Schema is up to date (version ${version}).`,
          );
        } finally {
          await db.destroy();
        }
      }),
    );
}

function registerUserCommands(db: Command): void {
  const user = db.command('user').description('cert mode: database users and their certificates');
  withCommonOptions(user.command('add'))
    .description('create a user and write its certificate and key where psql looks for them')
    .argument('<name>', 'role name (the certificate CN)')
    .option('--data <dir>', 'data directory (default: <home>/db)')
    .option(
      '--out <dir>',
      "where to write postgresql.crt, postgresql.key, root.crt (default ~/.postgresql; run as root, the system user NAME's)",
    )
    .option('--force', 'replace an existing key in the output folder')
    .action(
      action(async (name: string, flags: DbFlags & { out?: string; force?: boolean }) => {
        const result = await igniter.addUser(dataOf(flags), name, { out: flags.out, force: flags.force });
        const owner = result.owner ? `, owned by ${result.owner}` : '';
        console.log(
          `User ${result.role} ${result.existed ? 'already existed: certificate reissued' : 'created'}. Certificate ${result.files.cert}, key ${result.files.key} (0600${owner}), CA ${result.files.root}.`,
        );
        if (result.note) console.log(`note: ${result.note}`);
      }),
    );
  withCommonOptions(user.command('remove'))
    .description('revoke a user: it can no longer log in')
    .argument('<name>', 'role name')
    .option('--data <dir>', 'data directory (default: <home>/db)')
    .action(
      action(async (name: string, flags: DbFlags) => {
        await igniter.removeUser(dataOf(flags), name);
        console.log(`User ${name} revoked.`);
      }),
    );
}

/** What init made, where, how the connection figure was chosen, and how to connect. */
function printInitResult(result: igniter.InitResult, data: string): void {
  const { meta, limit } = result;
  console.log(
    `Created database cluster in ${data} (PostgreSQL ${meta.binaries.version}, binaries: ${meta.binaries.source}, ${meta.binaries.bindir})`,
  );
  if (result.relocatedTo) {
    console.log(
      `  data kept in ${result.relocatedTo} (linked from ${data}): ${meta.serverUser} cannot enter ${result.blockedBy}`,
    );
  }
  if (meta.serverUser) console.log(`  server runs as system user ${meta.serverUser}`);
  console.log(
    meta.auth === 'trust'
      ? '  auth: trust: one role "kiln", no TLS, any host allowed (change with `kiln db allow|deny`)'
      : '  auth: cert: TLS required, one certificate per user (`kiln db user add NAME`); only local subnets allowed',
  );
  printLimit(limit, '  ');
  if (result.started) {
    console.log(`Running on port ${meta.port} (pid ${result.pid}).`);
    const host = meta.listen.includes('*') || meta.listen.includes('localhost') ? '127.0.0.1' : meta.listen[0];
    if (meta.auth === 'trust') console.log(`  psql "host=${host} port=${meta.port} user=kiln dbname=kiln"`);
  } else console.log('Stopped; start it with `kiln db start`.');
}

/** The figure, how it was chosen, and a warning when the open-files limit bites or is overrun. */
function printLimit(limit: ConnectionLimit, indent = ''): void {
  console.log(`${indent}${limit.explanation}`);
  if (limit.capped)
    console.log(
      `${indent}warning: the open-files limit caps connections at ${limit.maxConnections}, below the ${limit.wanted} wanted; raise it (ulimit -n, LimitNOFILE= for a service) and run \`kiln db restart\``,
    );
  if (limit.overCeiling)
    console.log(
      `${indent}warning: max_connections ${limit.maxConnections} leaves the server too few files; raise ulimit -n`,
    );
}

function printSetResult(result: igniter.SetResult): void {
  for (const note of result.notes) console.log(`note: ${note}`);
  printLimit(result.limit);
  if (result.restarted) console.log('Database restarted to apply it.');
}

function printRulesChange(change: igniter.RulesChange): void {
  if (change.savedEdit) console.log(`The hand-edited pg_hba.conf was kept as ${change.savedEdit}.`);
  printRules(change.rules, change.reloaded);
}

async function confirmDestroy(data: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UserError('destroy needs confirmation: type DESTROY at the prompt in a terminal, or pass --yes', {
      code: 'not_confirmed',
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`This deletes every database in ${data}. Type DESTROY to confirm: `);
  rl.close();
  if (answer.trim() !== 'DESTROY') throw new UserError('not confirmed; nothing was changed', { code: 'not_confirmed' });
}

function printRules(rules: AccessRule[], reloaded?: boolean): void {
  for (const rule of rules) console.log(describeRule(rule));
  if (reloaded !== undefined)
    console.log(reloaded ? 'Rules applied (server reloaded).' : 'Rules saved; they apply when the server starts.');
}

function printStatus(status: ClusterStatus): void {
  const lines = [
    `data:         ${status.data}${status.realData ? ` -> ${status.realData}` : ''}`,
    `running:      ${status.running ? `yes (pid ${status.pid})` : 'no'}`,
    `port:         ${status.port} on ${status.listen.join(', ')}`,
    `version:      PostgreSQL ${status.version}`,
    `binaries:     ${status.binaries.source}: ${status.binaries.bindir}`,
    `server user:  ${status.serverUser ?? 'the invoking user'}`,
    `auth:         ${status.auth}${status.auth === 'cert' ? ` (users: ${status.users.join(', ') || 'none yet'})` : ''}`,
    `connections:  ${status.connections.inUse ?? '-'} in use of ${status.connections.max} (from ${describeSource(status.connections.source)})`,
    `              ${status.connections.explanation}`,
    `schema:       ${status.schemaVersion ? `version ${status.schemaVersion}` : 'not migrated'}`,
    'rules:',
    ...status.rules.map((rule) => `  ${describeRule(rule)}`),
  ];
  if (status.connections.capped) lines.splice(9, 0, '              warning: capped by the open-files limit');
  if (status.connections.overCeiling)
    lines.splice(9, 0, '              warning: above what the open-files limit leaves room for');
  for (const edit of status.handEdits) lines.push(`hand edit:    ${edit}`);
  console.log(lines.join('\n'));
}

function describeSource(source: ClusterStatus['connections']['source']): string {
  if (source === 'rule') return "Kiln's rule";
  if (source === 'kiln db set') return '`kiln db set`';
  return `${source}, set by hand`;
}
