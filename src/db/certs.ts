import 'reflect-metadata'; // @peculiar/x509 resolves its services through tsyringe, which needs it
import { webcrypto, randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** ECDSA P-256: small, fast to make, and accepted by every libpq/OpenSSL in use. */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface PemPair {
  cert: string;
  key: string;
}

const serial = (): string => `01${randomBytes(15).toString('hex')}`;
const subject = (cn: string): string => `CN=${cn.replace(/([,+="\\<>;])/g, '\\$1')},O=Kiln`;

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), KEY_ALGORITHM, false, [
    'sign',
  ]) as Promise<CryptoKey>;
}

/** The Kiln CA of one database cluster: it signs the server's and every user's certificate. */
export async function createCertificateAuthority(clusterName: string): Promise<PemPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject(`Kiln database CA (${clusterName})`),
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 20 * YEAR_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyToPem(keys.privateKey) };
}

async function issue(
  ca: PemPair,
  cn: string,
  usage: 'server' | 'client',
  altNames: x509.JsonGeneralName[] = [],
): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension([
      usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (altNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${cn}`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + (usage === 'server' ? 10 : 5) * YEAR_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey as never,
    signingKey: (await importSigningKey(ca.key)) as never,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await keyToPem(keys.privateKey) };
}

/**
 * The server certificate names this host by every name and address a client may use,
 * so `sslmode=verify-full` works whichever one the client typed.
 */
export async function issueServerCertificate(ca: PemPair, extraAddresses: string[] = []): Promise<PemPair> {
  const host = hostname();
  const dns = new Set([host, 'localhost']);
  const ips = new Set(['127.0.0.1', '::1', ...extraAddresses.filter((a) => a !== '*' && /^[\d.:a-fA-F]+$/.test(a))]);
  for (const entries of Object.values(networkInterfaces()))
    for (const entry of entries ?? []) if (!entry.address.includes('%')) ips.add(entry.address);
  const altNames: x509.JsonGeneralName[] = [
    ...[...dns].map((value) => ({ type: 'dns' as const, value })),
    ...[...ips].map((value) => ({ type: 'ip' as const, value })),
  ];
  return issue(ca, host, 'server', altNames);
}

/** A user's client certificate: PostgreSQL's `cert` method maps its CN to the role. */
export async function issueUserCertificate(ca: PemPair, role: string): Promise<PemPair> {
  return issue(ca, role, 'client');
}
