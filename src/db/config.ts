import { Type, type Static } from '@sinclair/typebox';

/** `db.yaml` / `KILN_DB_*`: what `kiln db init` uses when no flag says otherwise. */
export const DbConfigSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    auth: Type.Union([Type.Literal('trust'), Type.Literal('cert')]),
    /** Expected client hosts; sets max_connections = 7 + 10 x clients. */
    clients: Type.Integer({ minimum: 1, maximum: 10000 }),
    /** Addresses the server listens on; `*` means every interface. */
    listen: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    /** Data directory; defaults to `<home>/db`. */
    data: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * How the running database is made known on the network (by the announcer process the igniter
     * starts beside the server; `KILN_SELF_DISCOVERY=off` / `KILN_DNS_SD=off` turn it off too).
     */
    discovery: Type.Object(
      {
        /** Announce `database` by multicast self-discovery (network.cfg). */
        enabled: Type.Boolean(),
        /** Register `_kiln-db._tcp` over DNS-SD. */
        dns_sd: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type DbConfig = Static<typeof DbConfigSchema>;

export const DB_DEFAULTS: DbConfig = Object.freeze({
  port: 7533,
  auth: 'trust',
  clients: 10,
  // Other hosts of the studio must reach the database, so listen everywhere by default.
  listen: ['*'],
  discovery: Object.freeze({ enabled: true, dns_sd: true }),
});

export type AuthMode = DbConfig['auth'];
