// Package testenv finds what tests need outside Go: the repository's root and the
// Node.js tools installed there (npm ci at the root, as `make test` does).
//
// A missing tool fails a test when CI is set, and only skips it on a developer
// machine without CI: CI must never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the module root: the nearest folder above the test's working
// directory that holds go.mod.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Require skips the test locally, or fails it in CI, when ok is false.
func Require(tb testing.TB, ok bool, what string) {
	tb.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s is missing (CI is set, so this fails instead of skipping)", what)
	}
	tb.Skipf("%s is missing; skipping locally (set CI to make this a failure)", what)
}

// Node returns the path of node (see Require).
func Node(tb testing.TB) string {
	tb.Helper()
	node, err := exec.LookPath("node")
	Require(tb, err == nil, "node (Node.js 20)")
	return node
}

// Modules returns the root's node_modules folder and fails the test if the npm
// package pkg is not installed there: `make test` installs it.
func Modules(tb testing.TB, pkg string) string {
	tb.Helper()
	dir := filepath.Join(Root(tb), "node_modules")
	if _, err := os.Stat(filepath.Join(dir, pkg, "package.json")); err != nil {
		tb.Fatalf("npm package %s is not installed in %s (run npm ci at the repository root): %v", pkg, dir, err)
	}
	return dir
}
