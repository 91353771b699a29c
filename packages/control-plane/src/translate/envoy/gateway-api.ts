// The parts of Gateway API v1 HTTPRoute / GRPCRoute rules the translators read. The model keeps
// rules as untyped records (they come straight from YAML or the API server), so every field is
// optional here and checked where it is used.

export interface HeaderMatch {
  type?: string; // Exact (default) | RegularExpression
  name?: string;
  value?: string;
}

export interface HTTPPathMatch {
  type?: string; // PathPrefix (default) | Exact | RegularExpression
  value?: string;
}

export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HeaderMatch[];
  queryParams?: HeaderMatch[];
  method?: string;
}

export interface GRPCMethodMatch {
  type?: string; // Exact (default) | RegularExpression
  service?: string;
  method?: string;
}

export interface GRPCRouteMatch {
  method?: GRPCMethodMatch;
  headers?: HeaderMatch[];
}

export interface HeaderNameValue {
  name?: string;
  value?: string;
}

export interface HeaderModifier {
  set?: HeaderNameValue[];
  add?: HeaderNameValue[];
  remove?: string[];
}

export interface BackendObjectReference {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  port?: number;
}

export interface BackendRef extends BackendObjectReference {
  weight?: number;
  filters?: RouteFilter[];
}

export interface PathModifier {
  type?: string; // ReplaceFullPath | ReplacePrefixMatch
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface RouteFilter {
  type?: string;
  requestHeaderModifier?: HeaderModifier;
  responseHeaderModifier?: HeaderModifier;
  requestRedirect?: {
    scheme?: string;
    hostname?: string;
    path?: PathModifier;
    port?: number;
    statusCode?: number;
  };
  urlRewrite?: { hostname?: string; path?: PathModifier };
  requestMirror?: {
    backendRef?: BackendObjectReference;
    percent?: number;
    fraction?: { numerator?: number; denominator?: number };
  };
  extensionRef?: unknown;
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: RouteFilter[];
  backendRefs?: BackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
  /** Gateway API experimental (GEP-1731). */
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
}

export interface GRPCRouteRule {
  name?: string;
  matches?: GRPCRouteMatch[];
  filters?: RouteFilter[];
  backendRefs?: BackendRef[];
}

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
