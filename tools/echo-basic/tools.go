//go:build tools

// Package tools pins the Gateway API conformance suite's backend, echo-basic (the image
// registry.k8s.io/gateway-api/echo-basic), at the Gateway API version of the CRDs this project
// ships (v1.6.1). go-tool.sh builds it from the module cache; nothing of it is vendored here.
package tools

import _ "sigs.k8s.io/gateway-api/conformance/echo-basic"
