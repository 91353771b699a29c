// nx release "versionActions" for Trellis: every package shares one version (release group
// "fixed" in nx.json). For each package it reads and writes the version in package.json and the
// versions of the @trellis/* packages it depends on; after all packages are versioned it sets the
// same version in the root package.json and in deploy/ (image tags and the waypoint image the
// control plane deploys), so `trellis install` and `kubectl apply -k deploy/` run that version.
//   npx nx release version 0.2.0 [--dry-run]
const { execFileSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { VersionActions } = require('nx/src/command-line/release');

const COLLECTIONS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

// The version every package was given (the group is fixed), for afterAllProjectsVersioned.
let releasedVersion;

class TrellisVersionActions extends VersionActions {
  validManifestFilenames = ['package.json'];

  manifest(tree) {
    const path = join(this.projectGraphNode.data.root, 'package.json');
    return { path, json: JSON.parse(tree.read(path, 'utf-8')) };
  }

  async readCurrentVersionFromSourceManifest(tree) {
    const { path, json } = this.manifest(tree);
    return { currentVersion: json.version, manifestPath: path };
  }

  // Trellis packages are not published to a registry: the version lives in the manifests.
  async readCurrentVersionFromRegistry() {
    return null;
  }

  async readCurrentVersionOfDependency(tree, _projectGraph, dependencyProjectName) {
    const { json } = this.manifest(tree);
    for (const c of COLLECTIONS)
      if (json[c]?.[dependencyProjectName] !== undefined)
        return { currentVersion: json[c][dependencyProjectName], dependencyCollection: c };
    return { currentVersion: null, dependencyCollection: null };
  }

  async updateProjectVersion(tree, newVersion) {
    const { path, json } = this.manifest(tree);
    json.version = newVersion;
    releasedVersion = newVersion;
    tree.write(path, `${JSON.stringify(json, null, 2)}\n`);
    return [`New version ${newVersion} written to ${path}`];
  }

  async updateProjectDependencies(tree, _projectGraph, dependenciesToUpdate) {
    const { path, json } = this.manifest(tree);
    const logs = [];
    for (const [name, version] of Object.entries(dependenciesToUpdate))
      for (const c of COLLECTIONS)
        if (json[c]?.[name] !== undefined) {
          json[c][name] = version;
          logs.push(`${path}: ${name} -> ${version}`);
        }
    tree.write(path, `${JSON.stringify(json, null, 2)}\n`);
    return logs;
  }
}

/** Files outside the packages that name the version, and how to rewrite them. */
const VERSIONED_FILES = [
  {
    path: 'package.json',
    update: (text, v) => text.replace(/^(\s*"version":\s*")[^"]+(")/m, `$1${v}$2`),
  },
  {
    path: 'deploy/kustomization.yaml',
    update: (text, v) => text.replace(/(newTag:\s*)\S+/g, `$1${v}`),
  },
  {
    path: 'deploy/profiles/minimal/kustomization.yaml',
    update: (text, v) => text.replace(/(newTag:\s*)\S+/g, `$1${v}`),
  },
  {
    path: 'deploy/control-plane/deployment.yaml',
    update: (text, v) =>
      text
        .replace(/(image:\s*trellis\/control-plane:)\S+/, `$1${v}`)
        .replace(/(value:\s*trellis\/waypoint:)\S+/, `$1${v}`),
  },
  {
    path: 'deploy/ztunnel/daemonset.yaml',
    update: (text, v) => text.replace(/(image:\s*trellis\/ztunnel:)\S+/, `$1${v}`),
  },
  {
    path: 'deploy/cni/daemonset.yaml',
    update: (text, v) => text.replace(/(image:\s*trellis\/cni:)\S+/, `$1${v}`),
  },
];

async function afterAllProjectsVersioned(cwd, { dryRun }) {
  const version = releasedVersion;
  const changedFiles = [];
  if (!version) return { changedFiles, deletedFiles: [] };
  for (const f of VERSIONED_FILES) {
    const path = join(cwd, f.path);
    const before = readFileSync(path, 'utf8');
    const after = f.update(before, version);
    if (after === before) continue;
    changedFiles.push(f.path);
    if (!dryRun) writeFileSync(path, after);
  }
  // The lockfile records each workspace package's version too.
  if (!dryRun) {
    execFileSync(
      'npm',
      ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'],
      {
        cwd,
        stdio: 'inherit',
      },
    );
    changedFiles.push('package-lock.json');
  }
  return { changedFiles, deletedFiles: [] };
}

module.exports = TrellisVersionActions;
module.exports.default = TrellisVersionActions;
module.exports.afterAllProjectsVersioned = afterAllProjectsVersioned;
module.exports.VERSIONED_FILES = VERSIONED_FILES;
