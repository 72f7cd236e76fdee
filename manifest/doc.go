// Package manifest builds the MultiLine Teams app package (appPackage.zip):
// manifest.json at schema v1.30 plus the color and outline icons.
//
// The manifest is rendered from an embedded template so that what an admin
// uploads is always derived from validated options; the icons are drawn by
// code in this package (see icons.go) and committed as PNGs.
package manifest
