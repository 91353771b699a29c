// The Node object and status the emulator registers, and its Lease.

export interface NodeFacts {
  name: string;
  ip: string;
  kubeletVersion: string;
  kernelVersion: string;
  ready: boolean;
  readyMessage: string;
}

export function nodeObject(f: NodeFacts) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: f.name,
      labels: {
        'kubernetes.io/hostname': f.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
      },
      annotations: { 'trellis.dev/node-emulator': 'true' },
    },
    spec: {},
  };
}

export function nodeStatus(
  f: NodeFacts,
  now: string,
  previous?: { conditions?: Array<{ type: string; status: string; lastTransitionTime: string }> },
) {
  const resources = { cpu: '2', memory: '4Gi', pods: '110', 'ephemeral-storage': '20Gi' };
  const cond = (type: string, ok: boolean, reason: string, message: string) => {
    const status = ok ? 'True' : 'False';
    const prev = previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now,
    };
  };
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [
      { type: 'InternalIP', address: f.ip },
      { type: 'Hostname', address: f.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: f.name,
      systemUUID: f.name,
      bootID: f.name,
      kernelVersion: f.kernelVersion,
      osImage: 'trellis node emulator',
      containerRuntimeVersion: 'trellis-local://0.1.0',
      kubeletVersion: f.kubeletVersion,
      kubeProxyVersion: f.kubeletVersion,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    conditions: [
      cond(
        'MemoryPressure',
        false,
        'KubeletHasSufficientMemory',
        'kubelet has sufficient memory available',
      ),
      cond('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', f.ready, f.ready ? 'KubeletReady' : 'KubeletNotReady', f.readyMessage),
    ],
  };
}

/** RFC 3339 with microseconds, as Lease MicroTime fields require. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function leaseObject(node: string, nodeUID: string, now: Date) {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: 'kube-node-lease',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUID }],
    },
    spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: microTime(now) },
  };
}
