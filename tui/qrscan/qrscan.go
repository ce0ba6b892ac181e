// Package qrscan reads a QR code off a drawn terminal screen, as a phone's
// camera reads the terminal, for tests of the TUI's claim code (tui's
// drawQR): in colour every cell is two modules, one above the other (█ ▀ ▄
// and a space, drawn dark on light); in ASCII a module is two columns, "##"
// in the terminal's text colour (dark on a light terminal, light on a dark
// one). Every other cell is the light ground. The program never imports
// it.
package qrscan

import (
	"image"
	"image/color"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Read decodes the QR code on screen (escape sequences allowed) and returns
// its text.
//
// It reads as a camera's decoder does, finding the code by its finder
// patterns, at a few scales. The ZXing port used here misses about one
// synthetic code in two hundred that way at any one scale (and, rarely, at
// all of them) although the symbol is sound: zbar and ZXing's own path for
// a clean image read those. So the last try is that path
// (PURE_BARCODE), which still reads the drawing module by module: a
// drawing that is wrong in any module beyond what error correction
// repairs fails every try.
func Read(screen string, ascii, darkTerminal bool) (string, error) {
	grid := modules(screen, ascii, darkTerminal)
	var err error
	for _, scale := range []int{4, 5, 6, 3} {
		var text string
		if text, err = decode(grid, scale, nil); err == nil {
			return text, nil
		}
	}
	return decode(grid, 4, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
}

// modules reads the screen's cells back into modules, true for dark.
func modules(screen string, ascii, darkTerminal bool) [][]bool {
	lines := strings.Split(ansi.Strip(screen), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	var grid [][]bool
	if !ascii {
		for _, l := range lines {
			var top, bottom []bool
			for _, r := range l {
				top = append(top, r == '█' || r == '▀')
				bottom = append(bottom, r == '█' || r == '▄')
			}
			grid = append(grid, top, bottom)
		}
		return grid
	}
	// The code is the box the '#' cells span; outside it is ground.
	x0, y0, x1, y1 := 1<<30, 1<<30, -1, -1
	for y, l := range lines {
		for x := 0; x+1 < len(l); x += 2 {
			if l[x:x+2] == "##" {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	for y, l := range lines {
		var row []bool
		for x := 0; x+1 < len(l) || x <= x1; x += 2 {
			inside := x >= x0 && x <= x1 && y >= y0 && y <= y1
			ink := x+1 < len(l) && l[x:x+2] == "##"
			row = append(row, inside && ink != darkTerminal)
		}
		grid = append(grid, row)
	}
	return grid
}

// decode draws the modules px pixels a side on a light margin and reads
// them.
func decode(grid [][]bool, px int, hints map[gozxing.DecodeHintType]any) (string, error) {
	const margin = 8
	w := 0
	for _, r := range grid {
		w = max(w, len(r))
	}
	img := image.NewGray(image.Rect(0, 0, (w+2*margin)*px, (len(grid)+2*margin)*px))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y, r := range grid {
		for x, d := range r {
			if !d {
				continue
			}
			for dy := range px {
				for dx := range px {
					img.SetGray((x+margin)*px+dx, (y+margin)*px+dy, color.Gray{})
				}
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}
