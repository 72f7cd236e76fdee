package manifest

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var updateIcons = flag.Bool("update-icons", false, "rewrite icons/*.png from the drawing code")

func TestIconsMatchDrawing(t *testing.T) {
	tests := []struct {
		file      string
		draw      func() *image.NRGBA
		committed []byte
	}{
		{"icons/color.png", drawColor, colorPNG},
		{"icons/outline.png", drawOutline, outlinePNG},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := encodePNG(tt.draw())
			if err != nil {
				t.Fatal(err)
			}
			if *updateIcons {
				if err := os.WriteFile(filepath.FromSlash(tt.file), got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, tt.committed) {
				t.Fatalf("%s differs from what the drawing code produces; run `go generate ./manifest` and commit the result", tt.file)
			}
		})
	}
}

// checkIcons decodes both icons and enforces Teams' rules: sizes, and for
// the outline a transparent background with only white visible pixels.
func checkIcons(t *testing.T, color, outline []byte) {
	t.Helper()
	c, err := png.Decode(bytes.NewReader(color))
	if err != nil {
		t.Fatalf("color icon: %v", err)
	}
	if b := c.Bounds(); b.Dx() != 192 || b.Dy() != 192 {
		t.Errorf("color icon is %dx%d, want 192x192", b.Dx(), b.Dy())
	}
	o, err := png.Decode(bytes.NewReader(outline))
	if err != nil {
		t.Fatalf("outline icon: %v", err)
	}
	b := o.Bounds()
	if b.Dx() != 32 || b.Dy() != 32 {
		t.Errorf("outline icon is %dx%d, want 32x32", b.Dx(), b.Dy())
	}
	var transparent, visible int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			nc := toNRGBA(o.At(x, y))
			if nc.A == 0 {
				transparent++
				continue
			}
			visible++
			if nc.R != 0xFF || nc.G != 0xFF || nc.B != 0xFF {
				t.Fatalf("outline pixel (%d,%d) is %v: visible pixels must be white", x, y, nc)
			}
		}
	}
	// A blank or fully opaque outline would pass the colour check but is
	// not an outline; require both a background and a mark.
	if transparent < 32*32/4 || visible < 32*32/10 {
		t.Errorf("outline icon has %d transparent and %d visible pixels: want a transparent background with a visible mark", transparent, visible)
	}
}

func TestCommittedIcons(t *testing.T) {
	checkIcons(t, ColorIcon(), OutlineIcon())
}
