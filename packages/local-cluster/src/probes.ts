// Runs one readiness/liveness/startup probe attempt: httpGet, tcpSocket, grpc or exec.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { run } from './exec.js';
import { grpcHealthCheck } from './grpc-health.js';
import { nsenterArgv } from './node-emulator/exec-command.pure.js';
import type { Container, Probe } from './pod-spec.js';

/** Resolves a probe port: a number, or the name of one of the container's ports. */
export function probePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (container.ports ?? []).find((x) => x.name === port);
  if (!p)
    throw new Error(`probe port "${port}" is not a named port of container ${container.name}`);
  return p.containerPort;
}

/** Resolves true when the probe succeeds. `pid` is the container process (for exec probes). */
export async function runProbe(
  probe: Probe,
  podIP: string,
  container: Container,
  pid: number | undefined,
): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) {
      const g = probe.httpGet;
      const req = g.scheme === 'HTTPS' ? httpsRequest : httpRequest;
      return await new Promise<boolean>((resolve) => {
        const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
        const r = req(
          {
            host: g.host ?? podIP,
            port: probePort(g.port, container),
            path: g.path ?? '/',
            timeout: timeoutMs,
            headers,
            rejectUnauthorized: false,
          },
          (res) => {
            res.resume();
            const s = res.statusCode ?? 0;
            resolve(s >= 200 && s < 400);
          },
        );
        r.on('timeout', () => r.destroy(new Error('timeout')));
        r.on('error', () => resolve(false));
        r.end();
      });
    }
    if (probe.tcpSocket) {
      const t = probe.tcpSocket;
      return await new Promise<boolean>((resolve) => {
        const s = connect({
          host: t.host ?? podIP,
          port: probePort(t.port, container),
          timeout: timeoutMs,
        });
        s.on('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.on('timeout', () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', () => resolve(false));
      });
    }
    if (probe.grpc) {
      return await grpcHealthCheck(
        podIP,
        Number(probe.grpc.port),
        probe.grpc.service ?? '',
        timeoutMs,
      );
    }
    if (probe.exec) {
      if (pid === undefined) return false;
      const r = await run(
        'timeout',
        [String(Math.ceil(timeoutMs / 1000)), ...nsenterArgv(pid, probe.exec.command)],
        { allowFailure: true },
      );
      return r.code === 0;
    }
  } catch {
    return false;
  }
  return false;
}
