//go:build tools

// Package tools pins the Gateway API conformance suite at the Gateway API version of the CRDs
// this project ships (v1.6.1). go-tool.sh compiles its test binary (`go test -c`) from the
// module cache; nothing of it is vendored here.
package tools

import _ "sigs.k8s.io/gateway-api/conformance"
