//go:build tools

// Package tools pins the Gateway API mesh conformance suite's echo app. Its image,
// registry.k8s.io/gateway-api/echo-advanced, is Istio's test echo application (server and the
// `client` command the suite runs through `kubectl exec`), which lives in the istio.io/istio
// module: the module proxy lists no tagged versions of it, so go.mod pins a pseudo-version.
// go-tool.sh builds both programs from the module cache; nothing of them is vendored here.
package tools

import (
	_ "istio.io/istio/pkg/test/echo/cmd/client"
	_ "istio.io/istio/pkg/test/echo/cmd/server"
)
