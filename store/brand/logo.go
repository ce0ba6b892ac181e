package brand

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
)

// Logo limits. A logo is shown at most a few hundred pixels wide, in a page
// header and at the top of an email; the limits keep the file each page
// view and each email opening fetches small, and bound the memory decoding
// it takes (1024×1024 RGBA is 4 MiB) before the pixels are read.
const (
	MaxLogoBytes = 256 << 10
	MaxLogoSide  = 1024
	MinLogoSide  = 16
)

// Logo is a checked logo: re-encoded image bytes and what serving them needs.
type Logo struct {
	Data          []byte
	Type          string // image/png or image/jpeg
	Width, Height int
	Hash          string // hex SHA-256 of Data: the content hash in its address
}

// Ext is the file extension its address ends with.
func Ext(contentType string) string {
	if contentType == "image/jpeg" {
		return "jpg"
	}
	return "png"
}

// CheckLogo reads a logo file (name is only for the messages) and returns it
// re-encoded. Only PNG and JPEG are taken, recognised by their content, not
// the name. SVG is refused: it is a document that can carry scripts and
// fetch other resources, which a sanitiser would have to get exactly right,
// and many email apps do not show it at all. Decoding and re-encoding the
// pixels drops everything else the file carried (EXIF data such as where a
// photo was taken, comments, text appended to make the file something else
// too), so what is stored and served is only the picture.
func CheckLogo(name string, data []byte) (*Logo, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty; give a PNG or JPEG logo", name)
	}
	if len(data) > MaxLogoBytes {
		return nil, fmt.Errorf("%s is %d KiB; a logo may be at most %d KiB: export it smaller (%d pixels on its longest side is plenty)",
			name, (len(data)+1023)/1024, MaxLogoBytes>>10, 512)
	}
	head := strings.ToLower(string(data[:min(len(data), 512)]))
	if strings.Contains(head, "<svg") || strings.HasPrefix(strings.TrimSpace(head), "<?xml") {
		return nil, fmt.Errorf("%s is an SVG; SVG files can carry scripts and many email apps do not show them, so export the logo as PNG", name)
	}
	var format string
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		format = "png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		format = "jpeg"
	default:
		return nil, fmt.Errorf("%s is not a PNG or JPEG image; export the logo as PNG (or JPEG for a photo)", name)
	}
	var cfg image.Config
	var err error
	if format == "png" {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s could not be read as %s (%v); export it again", name, strings.ToUpper(format), err)
	}
	if cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return nil, fmt.Errorf("%s is %d×%d pixels; a logo may be at most %d on each side: scale it down", name, cfg.Width, cfg.Height, MaxLogoSide)
	}
	if cfg.Width < MinLogoSide || cfg.Height < MinLogoSide {
		return nil, fmt.Errorf("%s is %d×%d pixels; a logo needs at least %d on each side to be legible", name, cfg.Width, cfg.Height, MinLogoSide)
	}
	var img image.Image
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(data))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s could not be read as %s (%v); export it again", name, strings.ToUpper(format), err)
	}
	var out bytes.Buffer
	l := &Logo{Width: cfg.Width, Height: cfg.Height}
	if format == "png" {
		l.Type = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	} else {
		l.Type = "image/jpeg"
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: re-encoding the logo: %v", name, err)
	}
	if out.Len() > MaxLogoBytes {
		return nil, fmt.Errorf("%s is %d KiB once cleaned; a logo may be at most %d KiB: export it smaller", name, (out.Len()+1023)/1024, MaxLogoBytes>>10)
	}
	l.Data = out.Bytes()
	sum := sha256.Sum256(l.Data)
	l.Hash = hex.EncodeToString(sum[:])
	return l, nil
}

// EmailSize is the logo's size at the top of an email: at most 48 pixels
// tall and 240 wide, keeping its proportions. Email apps (Outlook above
// all) need the width and height written on the image.
func EmailSize(width, height int) (w, h int) {
	if width <= 0 || height <= 0 {
		return 0, 0
	}
	w, h = width, height
	if h > 48 {
		w, h = max(1, w*48/h), 48
	}
	if w > 240 {
		w, h = 240, max(1, h*240/w)
	}
	return w, h
}
