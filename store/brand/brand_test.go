package brand

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func TestContrastMatchesWCAG(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54}, // the well-known lightest grey that passes on white
		{"#777777", "#ffffff", 4.48},
	} {
		got := Contrast(mustColour(tc.a), mustColour(tc.b))
		if got < tc.want-0.01 || got > tc.want+0.01 {
			t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCheckAccent(t *testing.T) {
	for _, tc := range []struct{ in, want, refused string }{
		{in: "#1F5FBF", want: "#1f5fbf"},
		{in: "1f5fbf", want: "#1f5fbf"},
		{in: "#036", want: "#003366"},
		{in: "", want: ""},
		{in: "#ffee00", refused: "#ffee00 on white (links, and white text on buttons) is 1.2:1, below the 4.5:1 WCAG AA asks for text; choose a darker colour"},
		// Passes on white (4.54) but not on the page background.
		{in: "#767676", refused: "#767676 on the page background #f6f7f9 is 4.2:1"},
		{in: "blue", refused: `"blue" is not a colour`},
		{in: "#12345g", refused: "is not a colour"},
	} {
		got, err := CheckAccent(tc.in)
		if tc.refused != "" {
			if err == nil || !strings.Contains(err.Error(), tc.refused) {
				t.Errorf("CheckAccent(%q) = %q, %v; want a refusal containing %q", tc.in, got, err, tc.refused)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckAccent(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// Every accent that passes gets a dark-scheme colour that passes there.
func TestDarkPassesOnTheDarkScheme(t *testing.T) {
	for _, accent := range []string{"#1f5fbf", "#000000", "#7a1f1f", "#0b6b3a", "#5b2a86"} {
		d := mustColour(Dark(accent))
		for _, bg := range []string{DarkCard, DarkBackground} {
			if r := Contrast(d, mustColour(bg)); r < MinContrast {
				t.Errorf("Dark(%s) = %s is %.2f:1 on %s", accent, d, r, bg)
			}
		}
	}
	if got := Dark("#8ab4f8"); got != "#8ab4f8" {
		t.Errorf("a colour that already passes on dark was changed to %s", got)
	}
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, h/2, color.NRGBA{0x1f, 0x5f, 0xbf, 0xff})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheckLogo(t *testing.T) {
	// A PNG with text appended after its end (a polyglot) comes back as the
	// picture only.
	raw := append(pngOf(t, 120, 40), []byte("<script>alert(1)</script>")...)
	l, err := CheckLogo("logo.png", raw)
	if err != nil {
		t.Fatal(err)
	}
	if l.Type != "image/png" || l.Width != 120 || l.Height != 40 || len(l.Hash) != 64 {
		t.Errorf("logo = %s %dx%d %q", l.Type, l.Width, l.Height, l.Hash)
	}
	if bytes.Contains(l.Data, []byte("script")) {
		t.Error("the appended text survived re-encoding")
	}
	if _, err := png.Decode(bytes.NewReader(l.Data)); err != nil {
		t.Errorf("stored logo is not a PNG: %v", err)
	}

	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		t.Fatal(err)
	}
	if l, err := CheckLogo("logo.jpg", jb.Bytes()); err != nil || l.Type != "image/jpeg" {
		t.Errorf("JPEG refused: %v", err)
	}

	var gb bytes.Buffer
	if err := gif.Encode(&gb, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "is an SVG"},
		{"logo.svg", []byte(`<?xml version="1.0"?><!DOCTYPE svg><svg/>`), "is an SVG"},
		{"logo.gif", gb.Bytes(), "not a PNG or JPEG"},
		{"logo.png", []byte("\x89PNG\r\n\x1a\nbroken"), "could not be read as PNG"},
		{"logo.png", nil, "is empty"},
		{"big.png", pngOf(t, 2000, 100), "2000×100 pixels; a logo may be at most 1024"},
		{"tiny.png", pngOf(t, 8, 8), "at least 16"},
		{"huge.png", bytes.Repeat([]byte{0}, MaxLogoBytes+1), "may be at most 256 KiB"},
	} {
		_, err := CheckLogo(tc.name, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckLogo(%s) = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEmailSize(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{
		{120, 40, 120, 40},
		{480, 96, 240, 48},
		{1000, 100, 240, 24},
		{64, 64, 48, 48},
	} {
		if w, h := EmailSize(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("EmailSize(%d, %d) = %d, %d; want %d, %d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
}
