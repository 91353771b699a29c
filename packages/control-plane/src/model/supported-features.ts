// The Gateway API features Trellis implements, by the names of the upstream conformance suite
// (sigs.k8s.io/gateway-api pkg/features, v1.6.1). The conformance runner (e2e/src/conformance)
// runs the suite with this list, joined with what the GatewayClass of the ingress gateway lists
// in its status.supportedFeatures once it has one. A name goes here when the waypoint (GAMMA:
// routes whose parentRef is a Service) serves it; a feature left out is reported by the suite as
// unsupported.

/** Mesh (GAMMA) features, served by the waypoints. */
export const MESH_SUPPORTED_FEATURES: readonly string[] = [
  'Mesh',
  'HTTPRoute',
  'GRPCRoute',
  // HTTPRoute extended features that the mesh profiles' tests also need.
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteParentRefPort',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  // The mesh profiles' extended features.
  'MeshClusterIPMatching',
  'MeshConsumerRoute',
  'MeshHTTPRouteRewritePath',
  'MeshHTTPRouteSchemeRedirect',
  'MeshHTTPRouteRedirectPort',
  'MeshHTTPRouteRedirectPath',
  'MeshHTTPRouteBackendRequestHeaderModification',
  'MeshHTTPRouteQueryParamMatching',
  'MeshHTTPRouteNamedRouteRule',
];

/** Gateway API feature names (conformance `features.FeatureName`) the ingress gateway supports (its GatewayClasses list them in status). */
export const SUPPORTED_FEATURES: readonly string[] = Object.freeze(
  [
    'Gateway',
    'GRPCRoute',
    'HTTPRoute',
    'HTTPRouteBackendTimeout',
    'HTTPRouteHostRewrite',
    'HTTPRouteMethodMatching',
    'HTTPRoutePathRedirect',
    'HTTPRoutePathRewrite',
    'HTTPRoutePortRedirect',
    'HTTPRouteQueryParamMatching',
    'HTTPRouteRequestMirror',
    'HTTPRouteRequestTimeout',
    'HTTPRouteResponseHeaderModification',
    'HTTPRouteSchemeRedirect',
    'ReferenceGrant',
    'TLSRoute',
    // Declared after the GATEWAY-HTTP suite passed them (HTTPRouteBackendProtocolWebSocket once the
    // engine carried upgrades, with --run-test).
    'HTTPRoute303RedirectStatusCode',
    'HTTPRoute307RedirectStatusCode',
    'HTTPRoute308RedirectStatusCode',
    'HTTPRouteBackendRequestHeaderModification',
    'HTTPRouteNamedRouteRule',
    'HTTPRouteParentRefPort',
    'HTTPRouteRetry',
    'HTTPRouteRetryBackendTimeout',
    'HTTPRouteRetryConnectionError',
    'HTTPRouteDestinationPortMatching',
    'HTTPRouteRequestMultipleMirrors',
    'HTTPRouteRequestPercentageMirror',
    'HTTPRouteBackendProtocolH2C',
    'HTTPRouteBackendProtocolWebSocket',
    'GatewayPort8080',
    'GatewayInfrastructurePropagation',
    // Declared after the suite passed them (listener isolation once the gateway isolated its
    // listeners' virtual hosts).
    'GatewayHTTPListenerIsolation',
    'GRPCRouteNamedRouteRule',
    // Declared after each of the six BackendTLSPolicy tests passed in its own run.
    'BackendTLSPolicy',
    'BackendTLSPolicySANValidation',
    // The CORS filter, answered by the gateway's engine (preflights) and added to responses.
    'HTTPRouteCORS',
    // spec.addresses: an IPAddress without a value (assigned by the load balancer) and requested
    // addresses, asked of the load balancer through the gateway Service (gateway-addresses.ts).
    'GatewayAddressEmpty',
    'GatewayStaticAddresses',
    // ListenerSets: their listeners merged into the parent Gateway's (gateway-listeners.ts).
    'ListenerSet',
    // HTTPS listeners answer 421 to a request whose Host belongs to another listener than the
    // one its connection chose by SNI (HTTPRouteHTTPSListenerDetectMisdirectedRequests passed).
    'GatewayHTTPSListenerDetectMisdirectedRequests',
    // TLS listeners in mode Terminate (TLSRoutes get the decrypted stream), alone or beside
    // Passthrough listeners on one port.
    'TLSRouteModeTerminate',
    'TLSRouteModeMixed',
    // Client certificate validation of HTTPS listeners (spec.tls.frontend), AllowValidOnly and
    // AllowInsecureFallback.
    'GatewayFrontendClientCertificateValidation',
    'GatewayFrontendClientCertificateValidationInsecureFallback',
    // The Gateway's spec.tls.backend client certificate, presented on TLS to backends.
    'GatewayBackendClientCertificate',
  ].sort(),
);
