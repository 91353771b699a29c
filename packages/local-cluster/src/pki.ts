// Generates the cluster PKI with openssl: a CA, serving and client certificates, and the
// service-account signing key pair. Existing files are kept.
import { existsSync } from 'node:fs';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { run } from './exec.js';
import {
  certSpecs,
  extensionsConfig,
  subjectArg,
  type CertSpec,
  type NodeIdentity,
} from './pki-specs.pure.js';

const DAYS = '3650';

export async function ensurePki(
  dir: string,
  hostIP: string,
  kubernetesServiceIP: string,
  nodes: NodeIdentity[],
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = `${dir}/ca`;
  if (!existsSync(`${ca}.crt`)) {
    await run('openssl', [
      'ecparam',
      '-name',
      'prime256v1',
      '-genkey',
      '-noout',
      '-out',
      `${ca}.key`,
    ]);
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      `${ca}.key`,
      '-days',
      DAYS,
      '-subj',
      '/CN=trellis-local-ca',
      '-out',
      `${ca}.crt`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
  }
  if (!existsSync(`${dir}/sa.key`)) {
    await run('openssl', [
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-out',
      `${dir}/sa.key`,
    ]);
    await run('openssl', ['pkey', '-in', `${dir}/sa.key`, '-pubout', '-out', `${dir}/sa.pub`]);
  }
  for (const spec of certSpecs(hostIP, kubernetesServiceIP, nodes)) {
    if (!existsSync(`${dir}/${spec.file}.crt`)) await issue(dir, spec);
  }
}

async function issue(dir: string, spec: CertSpec): Promise<void> {
  const base = `${dir}/${spec.file}`;
  await run('openssl', [
    'ecparam',
    '-name',
    'prime256v1',
    '-genkey',
    '-noout',
    '-out',
    `${base}.key.sec1`,
  ]);
  await run('openssl', [
    'pkcs8',
    '-topk8',
    '-nocrypt',
    '-in',
    `${base}.key.sec1`,
    '-out',
    `${base}.key`,
  ]);
  await run('openssl', [
    'req',
    '-new',
    '-key',
    `${base}.key`,
    '-subj',
    subjectArg(spec),
    '-out',
    `${base}.csr`,
  ]);
  await writeFile(`${base}.ext`, extensionsConfig(spec));
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    `${dir}/ca.crt`,
    '-CAkey',
    `${dir}/ca.key`,
    '-CAcreateserial',
    '-days',
    DAYS,
    '-sha256',
    '-extfile',
    `${base}.ext`,
    '-extensions',
    'ext',
    '-out',
    `${base}.crt`,
  ]);
  await Promise.all(
    [`${base}.csr`, `${base}.ext`, `${base}.key.sec1`].map((f) => rm(f, { force: true })),
  );
}
