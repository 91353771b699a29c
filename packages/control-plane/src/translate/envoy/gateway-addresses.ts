// The addresses an ingress Gateway asks for (`spec.addresses`) and what is wrong with them.
// Entries of type IPAddress (the default) are requested from the load balancer through the
// gateway Service: `spec.loadBalancerIP` (Istio's, for one address) and MetalLB's annotation
// `metallb.io/loadBalancerIPs` (every address; also honoured by the local cluster's load-balancer
// controller). An IPAddress entry without a value asks for nothing: the load balancer assigns the
// address (GatewayAddressEmpty). Any other type, or a value that is not an IP address, makes the
// Gateway not Accepted with reason UnsupportedAddress. Whether a requested address is usable is
// the load balancer's answer (ingress-gateway-status.ts). Pure.
import { isIP } from '../../collections/ip-text.js';
import type { Gateway } from '../../model/gateway-api.js';

/** MetalLB's Service annotation listing the addresses asked for, comma-separated. */
export const ANNOTATION_LB_IPS = 'metallb.io/loadBalancerIPs';
/**
 * The Service status condition a load-balancer controller sets (status True) while it cannot give
 * the Service an address: reason AddressNotUsable when what was asked for cannot be had. Written
 * by the local cluster's controller (packages/local-cluster, lb-controller).
 */
export const CONDITION_LB_ADDRESS_ERROR = 'LoadBalancerAddressError';

/** Why the Gateway's spec.addresses cannot be honoured, if they cannot (reason UnsupportedAddress). */
export function gatewayAddressProblem(gw: Gateway): string | undefined {
  const problems = gw.spec.addresses.flatMap((a, i) => {
    const at = `spec.addresses[${i}]`;
    if (a.type !== 'IPAddress')
      return [
        `${at}: type ${JSON.stringify(a.type)} is not supported (only IPAddress: the gateway's address is its LoadBalancer Service's)`,
      ];
    if (a.value !== '' && !isIP(a.value))
      return [`${at}: ${JSON.stringify(a.value)} is not an IP address`];
    return [];
  });
  return problems.length ? problems.join('; ') : undefined;
}

/** The IP addresses the Gateway asks for, in spec order (entries without a value ask for none). */
export function requestedAddresses(gw: Gateway): string[] {
  return gw.spec.addresses
    .filter((a) => a.type === 'IPAddress' && a.value !== '')
    .map((a) => a.value);
}

/** What the gateway Service carries to ask its load balancer for `ips`. */
export function serviceAddressRequest(ips: readonly string[]): {
  annotations: Record<string, string>;
  loadBalancerIP?: string;
} {
  if (ips.length === 0) return { annotations: {} };
  return {
    annotations: { [ANNOTATION_LB_IPS]: ips.join(',') },
    ...(ips.length === 1 ? { loadBalancerIP: ips[0] } : {}),
  };
}
