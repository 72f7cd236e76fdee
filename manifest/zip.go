package manifest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"time"
)

// File names inside the package. Teams requires all three at the zip root.
const (
	ManifestFile = "manifest.json"
	ColorFile    = "color.png"
	OutlineFile  = "outline.png"
)

// zipTime is fixed so the same options always give the same bytes, which
// lets an admin compare a rebuilt package with the uploaded one.
var zipTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Build validates o and returns the bytes of appPackage.zip: manifest.json,
// color.png and outline.png at the root.
func Build(o Options) ([]byte, error) {
	m, err := Manifest(o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{ManifestFile, m},
		{ColorFile, colorPNG},
		{OutlineFile, outlinePNG},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip app package: %w", err)
	}
	return buf.Bytes(), nil
}
