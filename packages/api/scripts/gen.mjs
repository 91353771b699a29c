#!/usr/bin/env node
// Generates TypeScript for our Istio protos and the Envoy v3 protos the mesh uses.
//
// 1. Copies the Envoy/xDS/googleapis/validate .proto files reachable from ENVOY_ROOTS out of
//    @grpc/grpc-js-xds's deps/ into proto-deps/ (only the import closure, nothing else).
// 2. Adds `optional bool ignore_empty = 26;` to validate.StringRules if it is missing.
// 3. Runs `buf generate` (buf.yaml + buf.gen.yaml) with protoc-gen-es into a temporary directory
//    and syncs the result into src/gen/, rewriting only files whose content changed (so an
//    unchanged tree keeps its timestamps and `tsc -b` stays up to date).
// Offline; output depends only on the inputs. proto-deps/ and src/gen/ are not committed.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const depsOut = join(pkgDir, 'proto-deps');
const genOut = join(pkgDir, 'src', 'gen');

// Entry points; everything they import (except google/protobuf, which buf provides) is copied.
const ENVOY_ROOTS = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/path/match/uri_template/v3/uri_template_match.proto',
];

function xdsDepsDir() {
  const require = createRequire(join(pkgDir, 'package.json'));
  // The package has no export for deps/, so locate it from its main entry.
  let dir = dirname(require.resolve('@grpc/grpc-js-xds'));
  while (!existsSync(join(dir, 'deps'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('gen: @grpc/grpc-js-xds has no deps/ directory');
    dir = up;
  }
  return join(dir, 'deps');
}

function importsOf(text) {
  return [...text.matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm)].map((m) => m[1]);
}

function copyClosure(deps) {
  const roots = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((r) => join(deps, r));
  const done = new Set();
  const queue = [...ENVOY_ROOTS];
  while (queue.length > 0) {
    const file = queue.shift();
    if (done.has(file) || file.startsWith('google/protobuf/')) continue;
    const root = roots.find((r) => existsSync(join(r, file)));
    if (!root) throw new Error(`gen: cannot find imported proto "${file}" under ${deps}`);
    done.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    const out = join(depsOut, file);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, file === 'validate/validate.proto' ? patchValidate(text) : text);
    queue.push(...importsOf(text));
  }
  return done.size;
}

// Some Envoy protos set StringRules.ignore_empty (field 26); the bundled validate.proto predates it.
function patchValidate(text) {
  const start = text.indexOf('message StringRules {');
  if (start < 0) throw new Error('gen: validate.proto has no StringRules message');
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) {
      const body = text.slice(start, i);
      if (/\bignore_empty\s*=\s*26\s*;/.test(body)) return text;
      return `${text.slice(0, i)}\n  // Added by trellis scripts/gen.mjs.\n  optional bool ignore_empty = 26;\n${text.slice(i)}`;
    }
  }
  throw new Error('gen: unbalanced braces in validate.proto');
}

function binDirs() {
  const dirs = [];
  for (let dir = pkgDir; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin');
    if (existsSync(bin)) dirs.push(bin);
    if (dirname(dir) === dir) return dirs;
  }
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

// Makes `to` hold exactly the files of `from`, touching only what differs. Returns the count.
function sync(from, to) {
  const fresh = new Set(listFiles(from));
  let changed = 0;
  for (const file of listFiles(to)) {
    if (!fresh.has(file)) {
      rmSync(join(to, file));
      changed++;
    }
  }
  for (const file of fresh) {
    const content = readFileSync(join(from, file));
    const target = join(to, file);
    if (existsSync(target) && readFileSync(target).equals(content)) continue;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    changed++;
  }
  return changed;
}

const t0 = process.hrtime.bigint();
rmSync(depsOut, { recursive: true, force: true });
const copied = copyClosure(xdsDepsDir());
const env = { ...process.env, PATH: [...binDirs(), process.env.PATH].join(delimiter) };
const tmp = mkdtempSync(join(tmpdir(), 'trellis-api-gen-'));
try {
  const r = spawnSync('buf', ['generate', '--output', tmp], { cwd: pkgDir, env, stdio: 'inherit' });
  if (r.error) throw new Error(`gen: cannot run buf: ${r.error.message}`);
  if (r.status !== 0) process.exit(r.status ?? 1);
  const generated = join(tmp, 'src', 'gen');
  const total = listFiles(generated).length;
  const changed = sync(generated, genOut);
  const ms = Number((process.hrtime.bigint() - t0) / 1_000_000n);
  console.log(
    `gen: ${copied} dependency protos, ${total} generated files (${changed} changed) in ${ms} ms`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
