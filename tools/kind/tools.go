//go:build tools

// Package tools records the main packages listed in `programs`, so `go mod tidy` keeps every
// module they need in go.sum.
package tools

import (
	_ "sigs.k8s.io/cri-tools/cmd/crictl"
	_ "sigs.k8s.io/kind"
)
