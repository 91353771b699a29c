// BackendTLSPolicy (Gateway API v1): the TLS a gateway originates to the Services it targets, and
// the ConfigMaps whose `ca.crt` it trusts (a ConfigMap is kept with that key only).
import type { Meta, StatusCondition } from './gateway-api.js';

export interface BackendTLSPolicyTarget {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  /** A port name of the Service; none: every port. */
  readonly sectionName?: string;
}

export interface LocalObjectRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

export interface SubjectAltName {
  readonly type: 'Hostname' | 'URI';
  readonly value: string;
}

/** One `status.ancestors[]` entry as found on the object. */
export interface PolicyAncestorStatus {
  readonly ancestorRef: {
    readonly group?: string;
    readonly kind?: string;
    readonly namespace?: string;
    readonly name: string;
    readonly sectionName?: string;
  };
  readonly controllerName: string;
  readonly conditions: readonly StatusCondition[];
}

export interface BackendTLSPolicy {
  readonly metadata: Meta;
  readonly spec: {
    readonly targetRefs: readonly BackendTLSPolicyTarget[];
    readonly validation: {
      readonly hostname: string;
      readonly caCertificateRefs: readonly LocalObjectRef[];
      readonly wellKnownCACertificates?: string;
      readonly subjectAltNames: readonly SubjectAltName[];
    };
  };
  readonly status: { readonly ancestors: readonly PolicyAncestorStatus[] };
}

/** A ConfigMap as kept: its PEM `ca.crt`, when it has the key. */
export interface CaConfigMap {
  readonly metadata: Meta;
  readonly caCrt?: string;
}
