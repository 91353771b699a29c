// Outlier detection for one cluster (Envoy's algorithm): consecutive 5xx, consecutive gateway
// failures (502/503/504 and, unless split, local-origin failures) and consecutive local-origin
// failures eject a host at once; success-rate and failure-percentage checks run every interval.
// An ejected host stays out for base_ejection_time x (times ejected), capped at max_ejection_time,
// and never more than max_ejection_percent of the hosts are out (at least one may always be).
import type { OutlierConfig } from '../model/cluster.js';
import type { Host } from './host.js';

export type OutlierEvent = 'ejected' | 'returned';

export interface OutlierStats {
  ejectionsTotal: number;
  ejectionsConsecutive5xx: number;
  ejectionsGatewayFailure: number;
  ejectionsLocalOrigin: number;
  ejectionsSuccessRate: number;
  ejectionsFailurePercentage: number;
  ejectionsOverflow: number;
}

export class OutlierDetector {
  readonly #config: OutlierConfig;
  readonly #hosts: () => readonly Host[];
  readonly #onChange: (host: Host, event: OutlierEvent, reason: string) => void;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  readonly stats: OutlierStats = {
    ejectionsTotal: 0,
    ejectionsConsecutive5xx: 0,
    ejectionsGatewayFailure: 0,
    ejectionsLocalOrigin: 0,
    ejectionsSuccessRate: 0,
    ejectionsFailurePercentage: 0,
    ejectionsOverflow: 0,
  };

  constructor(o: {
    config: OutlierConfig;
    hosts: () => readonly Host[];
    onChange: (host: Host, event: OutlierEvent, reason: string) => void;
    random?: () => number;
    now?: () => number;
  }) {
    this.#config = o.config;
    this.#hosts = o.hosts;
    this.#onChange = o.onChange;
    this.#random = o.random ?? Math.random;
    this.#now = o.now ?? Date.now;
    this.#timer = setInterval(() => this.tick(), o.config.intervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** A response from the host (its status code). */
  reportStatus(host: Host, status: number): void {
    const c = this.#config;
    host.intervalTotal++;
    if (status >= 500) {
      host.intervalFailures++;
      host.consecutive5xx++;
      if (status >= 502 && status <= 504) host.consecutiveGatewayFailure++;
      else host.consecutiveGatewayFailure = 0;
      if (
        host.consecutiveGatewayFailure >= c.consecutiveGatewayFailure &&
        c.enforcingConsecutiveGatewayFailure > 0
      ) {
        this.#maybeEject(
          host,
          c.enforcingConsecutiveGatewayFailure,
          'consecutive gateway failures',
          'gw',
        );
        return;
      }
      if (host.consecutive5xx >= c.consecutive5xx) {
        this.#maybeEject(host, c.enforcingConsecutive5xx, 'consecutive 5xx', '5xx');
      }
    } else {
      host.consecutive5xx = 0;
      host.consecutiveGatewayFailure = 0;
      if (!c.splitLocalOrigin) host.consecutiveLocalFailure = 0;
    }
  }

  /** A connect failure, reset or timeout that never produced a response. */
  reportLocalFailure(host: Host): void {
    const c = this.#config;
    if (c.splitLocalOrigin) {
      host.consecutiveLocalFailure++;
      if (host.consecutiveLocalFailure >= c.consecutiveLocalOriginFailure)
        this.#maybeEject(
          host,
          c.enforcingConsecutiveLocalOriginFailure,
          'consecutive local-origin failures',
          'local',
        );
      return;
    }
    // Not split: counted as a 503 (Envoy's behaviour).
    this.reportStatus(host, 503);
  }

  /** A connection was made (split mode resets the local-origin counter). */
  reportLocalSuccess(host: Host): void {
    if (this.#config.splitLocalOrigin) host.consecutiveLocalFailure = 0;
  }

  /** Runs the interval work: returns hosts, decays ejection counts, success-rate checks. */
  tick(): void {
    const now = this.#now();
    const hosts = this.#hosts();
    for (const h of hosts) {
      if (h.ejectedUntil !== 0 && now >= h.ejectedUntil) {
        h.ejectedUntil = 0;
        h.consecutive5xx = 0;
        h.consecutiveGatewayFailure = 0;
        h.consecutiveLocalFailure = 0;
        this.#onChange(h, 'returned', 'ejection time elapsed');
      } else if (h.ejectedUntil === 0 && h.ejections > 0 && h.intervalFailures === 0) {
        h.ejections--;
      }
    }
    this.#successRate(hosts);
    this.#failurePercentage(hosts);
    for (const h of hosts) {
      h.intervalTotal = 0;
      h.intervalFailures = 0;
    }
  }

  #successRate(hosts: readonly Host[]): void {
    const c = this.#config;
    if (c.enforcingSuccessRate === 0) return;
    const rates: [Host, number][] = [];
    for (const h of hosts) {
      if (h.ejectedUntil === 0 && h.intervalTotal >= c.successRateRequestVolume)
        rates.push([h, 1 - h.intervalFailures / h.intervalTotal]);
    }
    if (rates.length < c.successRateMinimumHosts || rates.length === 0) return;
    const mean = rates.reduce((s, [, r]) => s + r, 0) / rates.length;
    const sd = Math.sqrt(rates.reduce((s, [, r]) => s + (r - mean) ** 2, 0) / rates.length);
    const threshold = mean - c.successRateStdevFactor * sd;
    for (const [h, r] of rates) {
      if (r < threshold) this.#maybeEject(h, c.enforcingSuccessRate, 'success rate', 'sr');
    }
  }

  #failurePercentage(hosts: readonly Host[]): void {
    const c = this.#config;
    if (c.enforcingFailurePercentage === 0) return;
    const eligible = hosts.filter(
      (h) => h.ejectedUntil === 0 && h.intervalTotal >= c.failurePercentageRequestVolume,
    );
    if (eligible.length < c.failurePercentageMinimumHosts) return;
    for (const h of eligible) {
      if (h.intervalFailures / h.intervalTotal >= c.failurePercentageThreshold)
        this.#maybeEject(h, c.enforcingFailurePercentage, 'failure percentage', 'fp');
    }
  }

  #maybeEject(
    host: Host,
    enforcing: number,
    reason: string,
    kind: '5xx' | 'gw' | 'local' | 'sr' | 'fp',
  ): void {
    if (host.ejectedUntil !== 0 || !host.live) return;
    if (enforcing < 1 && this.#random() >= enforcing) return;
    const hosts = this.#hosts();
    const ejected = hosts.reduce((n, h) => n + (h.ejectedUntil !== 0 ? 1 : 0), 0);
    const c = this.#config;
    // Envoy: eject while the ejected share stays within the limit; one host may always go.
    if (ejected > 0 && (ejected + 1) / hosts.length > c.maxEjectionPercent) {
      this.stats.ejectionsOverflow++;
      return;
    }
    host.ejections++;
    const duration = Math.min(c.baseEjectionMs * host.ejections, c.maxEjectionMs);
    host.ejectedUntil = this.#now() + duration;
    this.stats.ejectionsTotal++;
    if (kind === '5xx') this.stats.ejectionsConsecutive5xx++;
    else if (kind === 'gw') this.stats.ejectionsGatewayFailure++;
    else if (kind === 'local') this.stats.ejectionsLocalOrigin++;
    else if (kind === 'sr') this.stats.ejectionsSuccessRate++;
    else this.stats.ejectionsFailurePercentage++;
    this.#onChange(host, 'ejected', `${reason} (out for ${duration} ms)`);
  }
}
