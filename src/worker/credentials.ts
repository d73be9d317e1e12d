/**
 * The worker's identity: registered once with the farm's shared secret, kept in
 * `<home>/worker-credentials.yaml` (mode 0600) and reused on every start. When the manager no
 * longer knows it (401), the worker registers again, once, and carries on with the new identity.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Logger } from 'pino';
import { ApiError } from '../client/errors.js';
import type { ApiClient } from '../client/api-client.js';
import type { RegisterWorker, RegisteredWorker } from '../client/types.js';
import { UserError, isErrnoException } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

const CREDENTIALS_FILE = 'worker-credentials.yaml';

export interface StoredCredentials {
  id: string;
  token: string;
  /** The manager that issued them (for people reading the file). */
  manager: string;
  registeredAt: string;
}

export function credentialsPath(home: string): string {
  return join(home, CREDENTIALS_FILE);
}

export async function readCredentials(home: string): Promise<StoredCredentials | undefined> {
  const path = credentialsPath(home);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw new UserError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (error) {
    throw new UserError(`${path}: ${(error as Error).message.split('\n')[0]}; delete the file to register again`);
  }
  const value = parsed as Partial<StoredCredentials> | null;
  if (
    !value ||
    typeof value.id !== 'string' ||
    typeof value.token !== 'string' ||
    value.id === '' ||
    value.token === ''
  ) {
    throw new UserError(`${path} has no worker id and token; delete the file to register again`);
  }
  return {
    id: value.id,
    token: value.token,
    manager: String(value.manager ?? ''),
    registeredAt: String(value.registeredAt ?? ''),
  };
}

async function saveCredentials(home: string, credentials: StoredCredentials): Promise<void> {
  const text = `# This worker's identity on the farm, from registering with the farm secret. Keep it private.\n${YAML.stringify(credentials)}`;
  await writeFileAtomic(credentialsPath(home), text, 0o600);
}

/** The manager refused the worker's identity even after registering again. */
export class AuthenticationError extends UserError {
  constructor(message: string) {
    super(message, { code: 'unauthorized' });
  }
}

export interface CredentialKeeperOptions {
  home: string;
  client: ApiClient;
  /** What to register as (name, platform, task types, tags); the secret is added here. */
  registration: () => Omit<RegisterWorker, 'secret'>;
  /** The farm secret; read only when the worker has to register. */
  secret: () => string | undefined;
  logger: Logger;
  /** Runs after registering again (a new identity must sign on before it asks for work). */
  afterReRegister?: (() => Promise<unknown>) | undefined;
}

export class CredentialKeeper {
  readonly #options: CredentialKeeperOptions;
  #current: StoredCredentials | undefined;
  #registering: Promise<StoredCredentials> | undefined;

  constructor(options: CredentialKeeperOptions) {
    this.#options = options;
  }

  get current(): StoredCredentials | undefined {
    return this.#current;
  }

  /** Loads the stored identity, or registers when there is none. */
  async ensure(): Promise<StoredCredentials> {
    if (this.#current) return this.#current;
    const stored = await readCredentials(this.#options.home);
    if (stored) {
      this.#use(stored);
      this.#options.logger.info({ workerId: stored.id }, 'using stored worker credentials');
      return stored;
    }
    return this.register();
  }

  /** Registers with the farm secret and stores the new identity (one registration at a time). */
  register(): Promise<StoredCredentials> {
    this.#registering ??= this.#register().finally(() => {
      this.#registering = undefined;
    });
    return this.#registering;
  }

  /**
   * Runs a call to the manager; on 401 registers again, once, and retries. A second 401 means
   * the new identity is refused too: an AuthenticationError.
   */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.#current?.id;
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      // Another call may have registered again meanwhile; then just retry with that identity.
      if (this.#current?.id === before) {
        this.#options.logger.warn(
          { workerId: before },
          'the manager does not know this worker any more; registering again',
        );
        await this.register();
        await this.#options.afterReRegister?.();
      }
    }
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        throw new AuthenticationError(
          `the manager refused this worker's credentials even after registering again: ${error.message}`,
        );
      }
      throw error;
    }
  }

  #use(credentials: StoredCredentials): void {
    this.#current = credentials;
    this.#options.client.setWorkerCredentials({ id: credentials.id, token: credentials.token });
  }

  async #register(): Promise<StoredCredentials> {
    const secret = this.#options.secret();
    if (!secret) {
      throw new UserError(
        'this worker has no credentials yet and no farm secret to register with: pass --secret, set KILN_WORKER_SECRET, or set secretFile in worker.yaml',
        { code: 'no_secret', field: 'secret' },
      );
    }
    let registered: RegisteredWorker;
    try {
      registered = await this.#options.client.registerWorker({ ...this.#options.registration(), secret });
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        throw new AuthenticationError(
          `the manager refused to register this worker (wrong farm secret?): ${error.message}`,
        );
      }
      throw error;
    }
    const credentials: StoredCredentials = {
      id: registered.id,
      token: registered.token,
      manager: this.#options.client.baseUrl,
      registeredAt: new Date().toISOString(),
    };
    await saveCredentials(this.#options.home, credentials);
    this.#use(credentials);
    this.#options.logger.info({ workerId: credentials.id }, 'registered with the manager');
    return credentials;
  }
}
