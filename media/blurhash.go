package media

import (
	"image"
	"math"
	"strings"
)

// BlurHash encoding (https://blurha.sh): a few cosine components of an image, in
// linear light, quantized into a short base-83 string that clients turn into a
// blurred placeholder while the real picture loads.

const base83Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"

// blurhashSide is the largest side of the image the hash is computed on: the hash keeps
// only the lowest frequencies, so more pixels change nothing but the cost.
const blurhashSide = 64

// srgbToLinearTable maps an 8-bit sRGB value to linear light.
var srgbToLinearTable = func() [256]float64 {
	var t [256]float64
	for i := range t {
		v := float64(i) / 255
		if v <= 0.04045 {
			t[i] = v / 12.92
		} else {
			t[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return t
}()

func linearToSRGB(v float64) int {
	v = max(0, min(1, v))
	if v <= 0.0031308 {
		return int(v*12.92*255 + 0.5)
	}
	return int((1.055*math.Pow(v, 1/2.4)-0.055)*255 + 0.5)
}

func signPow(v, exp float64) float64 {
	return math.Copysign(math.Pow(math.Abs(v), exp), v)
}

func appendBase83(b *strings.Builder, value, length int) {
	for i := 1; i <= length; i++ {
		digit := (value / int(math.Pow(83, float64(length-i)))) % 83
		b.WriteByte(base83Chars[digit])
	}
}

// Blurhash encodes img with xComponents × yComponents cosine components (each 1–9).
// Large images are sampled down first, so the cost is bounded.
func Blurhash(img image.Image, xComponents, yComponents int) string {
	xComponents = max(1, min(9, xComponents))
	yComponents = max(1, min(9, yComponents))
	small := toNRGBA(fitWithin(img, blurhashSide, blurhashSide, false))
	w, h := small.Rect.Dx(), small.Rect.Dy()
	if w == 0 || h == 0 {
		return ""
	}

	// Linear light of every pixel, composited over white as transparent parts show on
	// a light background in most clients.
	lin := make([][3]float64, w*h)
	for y := 0; y < h; y++ {
		row := small.Pix[y*small.Stride : y*small.Stride+4*w]
		for x := 0; x < w; x++ {
			p := row[4*x : 4*x+4]
			a := float64(p[3]) / 255
			for c := 0; c < 3; c++ {
				lin[y*w+x][c] = srgbToLinearTable[p[c]]*a + (1 - a)
			}
		}
	}
	cosX := make([]float64, xComponents*w)
	for i := 0; i < xComponents; i++ {
		for x := 0; x < w; x++ {
			cosX[i*w+x] = math.Cos(math.Pi * float64(i) * float64(x) / float64(w))
		}
	}
	cosY := make([]float64, yComponents*h)
	for j := 0; j < yComponents; j++ {
		for y := 0; y < h; y++ {
			cosY[j*h+y] = math.Cos(math.Pi * float64(j) * float64(y) / float64(h))
		}
	}
	factors := make([][3]float64, 0, xComponents*yComponents)
	for j := 0; j < yComponents; j++ {
		for i := 0; i < xComponents; i++ {
			var f [3]float64
			for y := 0; y < h; y++ {
				cy := cosY[j*h+y]
				for x := 0; x < w; x++ {
					basis := cosX[i*w+x] * cy
					p := lin[y*w+x]
					f[0] += basis * p[0]
					f[1] += basis * p[1]
					f[2] += basis * p[2]
				}
			}
			norm := 2.0
			if i == 0 && j == 0 {
				norm = 1
			}
			scale := norm / float64(w*h)
			factors = append(factors, [3]float64{f[0] * scale, f[1] * scale, f[2] * scale})
		}
	}

	var b strings.Builder
	appendBase83(&b, (xComponents-1)+(yComponents-1)*9, 1)
	dc, ac := factors[0], factors[1:]
	maximum := 1.0
	if len(ac) > 0 {
		actualMax := 0.0
		for _, f := range ac {
			actualMax = max(actualMax, math.Abs(f[0]), math.Abs(f[1]), math.Abs(f[2]))
		}
		quantMax := int(max(0, min(82, math.Floor(actualMax*166-0.5))))
		maximum = float64(quantMax+1) / 166
		appendBase83(&b, quantMax, 1)
	} else {
		appendBase83(&b, 0, 1)
	}
	appendBase83(&b, linearToSRGB(dc[0])<<16|linearToSRGB(dc[1])<<8|linearToSRGB(dc[2]), 4)
	quant := func(v float64) int {
		return int(max(0, min(18, math.Floor(signPow(v/maximum, 0.5)*9+9.5))))
	}
	for _, f := range ac {
		appendBase83(&b, quant(f[0])*19*19+quant(f[1])*19+quant(f[2]), 2)
	}
	return b.String()
}
