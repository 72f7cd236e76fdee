package manifest

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The icons are drawn by the code below and committed as PNGs (embedded
// here) rather than drawn at build time: the PNGs can be reviewed as images
// in the repository and the binary does not carry a renderer it only needs
// once. TestIconsMatchDrawing redraws them and compares bytes, so the
// committed files cannot drift from the code; after changing the drawing run
// `go generate ./manifest` to rewrite them.
//
//go:generate go test -run TestIconsMatchDrawing -update-icons .

// Icon sizes required by Teams.
const (
	ColorIconSize   = 192
	OutlineIconSize = 32
)

//go:embed icons/color.png
var colorPNG []byte

//go:embed icons/outline.png
var outlinePNG []byte

// ColorIcon returns the committed 192×192 full-color icon.
func ColorIcon() []byte { return bytes.Clone(colorPNG) }

// OutlineIcon returns the committed 32×32 outline icon: white on transparent.
func OutlineIcon() []byte { return bytes.Clone(outlinePNG) }

var (
	wechatGreen = color.NRGBA{0x07, 0xC1, 0x60, 0xFF}
	white       = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
)

// shape reports whether the point (x, y), in unit coordinates with the
// origin at the top left, is inside.
type shape func(x, y float64) bool

type layer struct {
	fill shape
	c    color.NRGBA
}

// The mark: a speech bubble with a tail at the lower left, holding an "M"
// drawn as one thick polyline. Coordinates are fractions of the icon size.
var (
	bubbleBox  = [4]float64{0.14, 0.18, 0.86, 0.70}
	bubbleR    = 0.14
	bubbleTail = [3][2]float64{{0.26, 0.62}, {0.20, 0.86}, {0.46, 0.66}}
	mStroke    = [][2]float64{{0.33, 0.57}, {0.33, 0.31}, {0.50, 0.47}, {0.67, 0.31}, {0.67, 0.57}}
	// At 32 px the ring takes space, so the outline's M is smaller to keep
	// a gap of at least one pixel inside the ring.
	mStrokeSmall = [][2]float64{{0.37, 0.54}, {0.37, 0.35}, {0.50, 0.47}, {0.63, 0.35}, {0.63, 0.54}}
)

func bubble() shape {
	b, t := bubbleBox, bubbleTail
	return union(roundRect(b[0], b[1], b[2], b[3], bubbleR), triangle(t[0], t[1], t[2]))
}

// erode keeps the points of s whose neighbourhood of radius r lies inside s
// too (probed along 24 directions at two radii), which turns "s minus
// erode(s)" into an outline of even thickness for any shape.
func erode(s shape, r float64) shape {
	const dirs = 24
	return func(x, y float64) bool {
		if !s(x, y) {
			return false
		}
		for i := 0; i < dirs; i++ {
			a := 2 * math.Pi * float64(i) / dirs
			for _, k := range []float64{0.5, 1} {
				if !s(x+k*r*math.Cos(a), y+k*r*math.Sin(a)) {
					return false
				}
			}
		}
		return true
	}
}

func drawColor() *image.NRGBA {
	return render(ColorIconSize, color.NRGBA{}, []layer{
		{func(x, y float64) bool { return true }, wechatGreen},
		{bubble(), white},
		{polyline(mStroke, 0.085), wechatGreen},
	})
}

func drawOutline() *image.NRGBA {
	const ring = 0.085
	return render(OutlineIconSize, color.NRGBA{}, []layer{
		{difference(bubble(), erode(bubble(), ring)), white},
		{polyline(mStrokeSmall, 0.08), white},
	})
}

// render rasterises the layers (later ones on top) with 8×8 supersampling so
// edges are anti-aliased; partial coverage only lowers alpha for the
// outline, keeping every visible pixel pure white as Teams requires.
func render(size int, bg color.NRGBA, layers []layer) *image.NRGBA {
	const ss = 8
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64 // premultiplied sums
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					c := bg
					for i := len(layers) - 1; i >= 0; i-- {
						if layers[i].fill(x, y) {
							c = layers[i].c
							break
						}
					}
					ca := float64(c.A) / 255
					r += float64(c.R) * ca
					g += float64(c.G) * ca
					b += float64(c.B) * ca
					a += ca
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a)),
				G: uint8(math.Round(g / a)),
				B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / n * 255)),
			})
		}
	}
	return img
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode icon: %w", err)
	}
	return buf.Bytes(), nil
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Min(math.Max(x, x0+r), x1-r)
		cy := math.Min(math.Max(y, y0+r), y1-r)
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func triangle(a, b, c [2]float64) shape {
	side := func(p, q [2]float64, x, y float64) float64 {
		return (q[0]-p[0])*(y-p[1]) - (q[1]-p[1])*(x-p[0])
	}
	return func(x, y float64) bool {
		d1, d2, d3 := side(a, b, x, y), side(b, c, x, y), side(c, a, x, y)
		neg := d1 < 0 || d2 < 0 || d3 < 0
		pos := d1 > 0 || d2 > 0 || d3 > 0
		return !(neg && pos)
	}
}

// polyline is the set of points within width/2 of the path, which gives
// round joins and caps.
func polyline(pts [][2]float64, width float64) shape {
	h := width / 2
	return func(x, y float64) bool {
		for i := 0; i+1 < len(pts); i++ {
			if segDist(pts[i], pts[i+1], x, y) <= h {
				return true
			}
		}
		return false
	}
}

func segDist(a, b [2]float64, x, y float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((x-a[0])*dx + (y-a[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(x-(a[0]+t*dx), y-(a[1]+t*dy))
}

func union(s ...shape) shape {
	return func(x, y float64) bool {
		for _, f := range s {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

func difference(a, b shape) shape {
	return func(x, y float64) bool { return a(x, y) && !b(x, y) }
}
