// Package brand holds the rules of an organization's look on the customers'
// pages and in its emails: the accent colour (a hex colour whose contrast
// with what it is used with meets WCAG AA) and the logo (a small PNG or JPEG,
// checked and re-encoded before it is stored). The store calls it to
// validate what `org set --accent/--logo` saves; the web and the mailer call
// it for the colours they derive.
package brand

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MinContrast is WCAG 2.x level AA's contrast ratio for normal-size text
// (success criterion 1.4.3). The accent is text (links, secondary buttons)
// and a background under white text (buttons), so it needs this against
// both.
const MinContrast = 4.5

// The colours the accent is used with in the light scheme of the site's
// stylesheet and in the HTML emails: white under links and around buttons'
// white text, and the page's background under the header's sign-out
// button. Keep them equal to claim/web/static/site.css's --card and --bg.
const (
	White          = "#ffffff"
	PageBackground = "#f6f7f9"
	// DarkCard and DarkBackground are the dark scheme's --card and --bg:
	// the accent is lightened for them (see Dark).
	DarkCard       = "#1e2228"
	DarkBackground = "#14171b"
)

// Colour is an sRGB colour.
type Colour struct{ R, G, B uint8 }

// ParseColour reads "#rrggbb" or "#rgb" (case-insensitive, the # optional).
func ParseColour(s string) (Colour, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return Colour{}, fmt.Errorf("%q is not a colour; write it as # and six hex digits, like #1f5fbf", s)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return Colour{}, fmt.Errorf("%q is not a colour; write it as # and six hex digits, like #1f5fbf", s)
	}
	return Colour{uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}

func mustColour(s string) Colour {
	c, err := ParseColour(s)
	if err != nil {
		panic(err)
	}
	return c
}

// String is the colour as #rrggbb, lower-case: the one form stored and
// written into stylesheets and emails.
func (c Colour) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// luminance is WCAG's relative luminance.
func (c Colour) luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// Contrast is WCAG's contrast ratio of two colours, from 1 to 21.
func Contrast(a, b Colour) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// ratio words a contrast ratio rounded down to one decimal, so that a
// refused 4.47 never reads as the 4.5 it falls short of.
func ratio(r float64) string {
	return strconv.FormatFloat(math.Floor(r*10)/10, 'f', 1, 64) + ":1"
}

// CheckAccent reads an accent colour and checks it against everything it
// is used with in the light scheme, returning it as #rrggbb. A colour that
// fails is refused with the reason and what to do: "#ffee00 on white is
// 1.2:1; …". "" (no accent) is returned as is.
func CheckAccent(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	c, err := ParseColour(s)
	if err != nil {
		return "", err
	}
	for _, against := range []struct{ name, colour string }{
		{"white (links, and white text on buttons)", White},
		{"the page background " + PageBackground, PageBackground},
	} {
		if r := Contrast(c, mustColour(against.colour)); r < MinContrast {
			return "", fmt.Errorf("%s on %s is %s, below the %.1f:1 WCAG AA asks for text; choose a darker colour", c, against.name, ratio(r), MinContrast)
		}
	}
	return c.String(), nil
}

// Dark is the accent as the dark colour scheme uses it: mixed with white
// just enough to reach MinContrast against the dark scheme's card and
// background, so a brand's navy stays recognisably its hue and stays
// readable. A colour that already passes is returned as it is.
func Dark(accent string) string {
	c, err := ParseColour(accent)
	if err != nil {
		return accent
	}
	card, bg := mustColour(DarkCard), mustColour(DarkBackground)
	mix := func(t float64) Colour {
		m := func(v uint8) uint8 { return uint8(math.Round(float64(v) + (255-float64(v))*t)) }
		return Colour{m(c.R), m(c.G), m(c.B)}
	}
	for i := 0; i <= 100; i++ {
		d := mix(float64(i) / 100)
		if Contrast(d, card) >= MinContrast && Contrast(d, bg) >= MinContrast {
			return d.String()
		}
	}
	return White
}
