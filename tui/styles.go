package tui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"frontdesk/store"
)

// Glyphs are the few characters the screens draw with. In an ASCII-only
// terminal (TERM=dumb, and NO_COLOR, which lipgloss treats alike) nothing
// that carries meaning may depend on Unicode or on colour, so the ASCII set
// spells it out.
type Glyphs struct {
	Cursor   string // marks the selected row
	Mark     string // marks a row chosen for a bulk invite
	Dash     string // between a sentence and what to do about it
	Ellipsis string // truncated text
	Sep      string // between items on one line
	Bullet   string
	BarFull  rune
	BarEmpty rune
	Rule     string // one cell of a horizontal rule
}

var unicodeGlyphs = Glyphs{Cursor: "›", Mark: "●", Dash: " — ", Ellipsis: "…", Sep: " · ", Bullet: "•", BarFull: '█', BarEmpty: '░', Rule: "─"}

var asciiGlyphs = Glyphs{Cursor: ">", Mark: "*", Dash: " - ", Ellipsis: "...", Sep: " | ", Bullet: "-", BarFull: '#', BarEmpty: '.', Rule: "-"}

// Styles is every style a session draws with, built from the session's
// renderer: over SSH each session has its own terminal (colour profile,
// background), so nothing here may come from lipgloss's package-level
// renderer.
type Styles struct {
	Renderer *lipgloss.Renderer
	ASCII    bool
	Glyphs   Glyphs

	Title       lipgloss.Style
	Subtle      lipgloss.Style
	Bold        lipgloss.Style
	Tab         lipgloss.Style
	TabActive   lipgloss.Style
	TableHeader lipgloss.Style
	Selected    lipgloss.Style // the cursor row
	MarkGlyph   lipgloss.Style
	Status      map[store.Status]lipgloss.Style
	Section     lipgloss.Style
	Label       lipgloss.Style
	Info        lipgloss.Style
	Success     lipgloss.Style
	Warning     lipgloss.Style
	Error       lipgloss.Style
	Box         lipgloss.Style // confirmations and summaries
	Input       lipgloss.Style // text typed into an input
	Placeholder lipgloss.Style
	Key         lipgloss.Style
	Desc        lipgloss.Style
	HelpSep     lipgloss.Style
	Spin        lipgloss.Style
	QR          lipgloss.Style // a QR code's rows: dark modules on light, both set (see drawQR)
	BarColor    string         // progress bar fill, a hex colour; "" for none
}

// NewStyles builds the styles for a terminal drawn through r. Colours are
// adaptive, so they read on light and dark backgrounds.
func NewStyles(r *lipgloss.Renderer) *Styles {
	ascii := r.ColorProfile() == termenv.Ascii
	s := &Styles{Renderer: r, ASCII: ascii, Glyphs: unicodeGlyphs}
	if ascii {
		s.Glyphs = asciiGlyphs
	}
	dark := r.HasDarkBackground()
	// Each colour is picked for the background and converted to the
	// terminal's profile here, once: given the hex colour, lipgloss would
	// convert it on every Render (for a 256-colour terminal, a search of
	// the palette in HSLuv), which was most of the cost of redrawing a
	// screen when a change reaches hundreds of sessions at once.
	adaptive := func(light, darkHex string) lipgloss.TerminalColor {
		hex := light
		if dark {
			hex = darkHex
		}
		switch c := r.ColorProfile().Color(hex).(type) {
		case termenv.ANSIColor:
			return lipgloss.Color(strconv.Itoa(int(c)))
		case termenv.ANSI256Color:
			return lipgloss.Color(strconv.Itoa(int(c)))
		case termenv.RGBColor:
			return lipgloss.Color(string(c))
		}
		return lipgloss.NoColor{}
	}
	var (
		accent  = adaptive("#5A3FC0", "#B7A6FF")
		subtle  = adaptive("#6B6B6B", "#9A9A9A")
		green   = adaptive("#1E7B34", "#5FD787")
		yellow  = adaptive("#8A5A00", "#F2C55C")
		red     = adaptive("#B3261E", "#FF7B72")
		blue    = adaptive("#0B5CAD", "#79B8FF")
		selFg   = adaptive("#000000", "#FFFFFF")
		selBg   = adaptive("#DCD3FF", "#3B2F73")
		neutral = adaptive("#333333", "#DDDDDD")
	)
	n := r.NewStyle
	s.Title = n().Bold(true).Foreground(accent)
	s.Subtle = n().Foreground(subtle)
	s.Bold = n().Bold(true)
	s.Tab = n().Foreground(subtle)
	s.TabActive = n().Bold(true).Foreground(accent)
	s.TableHeader = n().Bold(true).Foreground(neutral)
	s.Selected = n().Foreground(selFg).Background(selBg).Bold(true)
	s.MarkGlyph = n().Foreground(accent).Bold(true)
	s.Status = map[store.Status]lipgloss.Style{
		store.StatusClaimed:    n().Foreground(green),
		store.StatusInvited:    n().Foreground(blue),
		store.StatusExpired:    n().Foreground(yellow),
		store.StatusFailed:     n().Foreground(red),
		store.StatusNotInvited: n().Foreground(neutral),
		store.StatusNoEmail:    n().Foreground(subtle),
	}
	s.Section = n().Bold(true).Foreground(accent)
	s.Label = n().Foreground(subtle)
	s.Info = n().Foreground(neutral)
	s.Success = n().Foreground(green)
	s.Warning = n().Foreground(yellow)
	s.Error = n().Foreground(red).Bold(true)
	s.Input = n().Foreground(neutral)
	s.Placeholder = n().Foreground(subtle)
	s.Key = n().Foreground(accent).Bold(true)
	s.Desc = n().Foreground(subtle)
	s.HelpSep = n().Foreground(subtle)
	s.Spin = n().Foreground(accent)
	// Not adaptive: a QR code is black on white in every terminal, light or
	// dark, so that the phone sees the contrast scanners expect.
	s.QR = n().Foreground(lipgloss.Color("#000000")).Background(lipgloss.Color("#FFFFFF"))
	border := lipgloss.RoundedBorder()
	if ascii {
		border = lipgloss.Border{Top: "-", Bottom: "-", Left: "|", Right: "|", TopLeft: "+", TopRight: "+", BottomLeft: "+", BottomRight: "+"}
	}
	s.Box = n().Border(border).BorderForeground(accent).Padding(0, 1)
	if !ascii {
		s.BarColor = "#7D56F4"
	}
	return s
}

// Help returns a help model drawn with these styles.
func (s *Styles) Help() help.Model {
	h := help.New()
	h.ShortSeparator = s.Glyphs.Sep
	h.Ellipsis = s.Glyphs.Ellipsis
	h.Styles = help.Styles{
		Ellipsis: s.HelpSep, ShortKey: s.Key, ShortDesc: s.Desc, ShortSeparator: s.HelpSep,
		FullKey: s.Key, FullDesc: s.Desc, FullSeparator: s.HelpSep,
	}
	return h
}

// Spinner returns a spinner drawn with these styles; the line spinner is
// ASCII, so it works everywhere.
func (s *Styles) Spinner() spinner.Model {
	return spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(s.Spin))
}

// Progress returns a progress bar for this terminal's colour profile (the
// bar otherwise asks the process's stdout, which over SSH is not the
// session's terminal).
func (s *Styles) Progress(width int) progress.Model {
	opts := []progress.Option{
		progress.WithColorProfile(s.Renderer.ColorProfile()),
		progress.WithFillCharacters(s.Glyphs.BarFull, s.Glyphs.BarEmpty),
		progress.WithWidth(width),
		progress.WithoutPercentage(),
	}
	if s.BarColor != "" {
		opts = append(opts, progress.WithSolidFill(s.BarColor))
	}
	return progress.New(opts...)
}

// TextInput returns a text input drawn with these styles. The cursor does
// not blink: a blinking cursor redraws the screen twice a second for nothing,
// over SSH too.
func (s *Styles) TextInput() textinput.Model {
	ti := textinput.New()
	ti.PromptStyle = s.Key
	ti.TextStyle = s.Input
	ti.PlaceholderStyle = s.Placeholder
	ti.CompletionStyle = s.Placeholder
	ti.Cursor.Style = s.Renderer.NewStyle().Reverse(true)
	ti.Cursor.TextStyle = s.Input
	ti.Cursor.SetMode(cursor.CursorStatic)
	// ctrl+v would make the input read the clipboard of the machine the
	// TUI runs on (over SSH, the server's, by running xclip there). A
	// person's paste arrives from their own terminal as a bracketed paste,
	// which the input takes as typed text.
	ti.KeyMap.Paste.SetEnabled(false)
	return ti
}
